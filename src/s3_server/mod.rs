//! `photoscale s3-server`: the S3-compatible server of the local stack
//! (levels 2 and up). Objects live in files under a directory of the
//! stack's state, so they survive `down`/`up` and a SIGKILL; every request
//! must carry a SigV4 signature (a header or a presigned URL) made with the
//! stack's own key pair; nothing is kept per request, so nothing grows
//! with reads. Built on s3s (the S3 protocol and SigV4) and s3s-fs (the
//! objects in files).

mod import;
mod objects;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

use objects::PhotoObjects;

/// The environment variables that carry the key pair: never on the
/// command line, where `ps` shows it to everyone.
pub const ACCESS_KEY_VARIABLE: &str = "PHOTOSCALE_S3_ACCESS_KEY_ID";
pub const SECRET_KEY_VARIABLE: &str = "PHOTOSCALE_S3_SECRET_ACCESS_KEY";

pub struct S3ServerOptions {
    pub listen: SocketAddr,
    /// Where the objects are kept (one directory per bucket).
    pub root: PathBuf,
    /// Buckets made at start when missing.
    pub buckets: Vec<String>,
    pub access_key: String,
    pub secret_key: SecretString,
}

impl S3ServerOptions {
    /// The key pair from the environment, with a message that says which
    /// variable is missing.
    pub fn keys_from_environment() -> anyhow::Result<(String, SecretString)> {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .with_context(|| {
                    format!("{name} is not set\n  fix: set {ACCESS_KEY_VARIABLE} and {SECRET_KEY_VARIABLE}: every request must be signed with them")
                })
        };
        Ok((
            read(ACCESS_KEY_VARIABLE)?,
            SecretString::from(read(SECRET_KEY_VARIABLE)?),
        ))
    }
}

/// The objects under `root`, with `buckets` made when missing.
fn open(root: &Path, buckets: &[String]) -> anyhow::Result<PhotoObjects> {
    for bucket in buckets {
        let dir = root.join(bucket);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the bucket directory {}", dir.display()))?;
    }
    let files = s3s_fs::FileSystem::new(root)
        .map_err(|e| anyhow::anyhow!("cannot use {} for objects: {e:?}", root.display()))?;
    Ok(PhotoObjects::new(files))
}

/// Copies every object of `buckets` from the S3-compatible server at
/// `source` into the directory under `root`, then returns.
pub async fn import(source: &str, root: &Path, buckets: &[String]) -> anyhow::Result<()> {
    let objects = open(root, buckets)?;
    for bucket in buckets {
        let copied = import::import_bucket(source, bucket, &objects).await?;
        println!("{bucket}: {copied} objects copied from {source}");
    }
    Ok(())
}

/// Serves until SIGTERM or Ctrl-C, then lets requests under way finish.
pub async fn serve(options: S3ServerOptions) -> anyhow::Result<()> {
    let objects = open(&options.root, &options.buckets)?;
    let mut builder = S3ServiceBuilder::new(objects);
    builder.set_auth(SimpleAuth::from_single(
        options.access_key.clone(),
        options.secret_key.expose_secret().to_owned(),
    ));
    let service = builder.build();

    let listener = TcpListener::bind(options.listen).await.with_context(|| {
        format!(
            "cannot listen on {}; fix: is another server using it?",
            options.listen
        )
    })?;
    tracing::info!(
        address = %options.listen,
        root = %options.root.display(),
        "the S3 server is listening on http://{}",
        options.listen
    );
    let connections = ConnectionBuilder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            },
            () = stop.as_mut() => break,
        };
        let _ = socket.set_nodelay(true);
        let connection = connections.serve_connection(TokioIo::new(socket), service.clone());
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("requests still under way after 10 s; stopping anyway");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
