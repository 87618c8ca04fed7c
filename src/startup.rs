//! Builds the application from settings: opens the database and storage, binds
//! the listener, and wires middleware and routes.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

use crate::abuse_limits::AbuseLimits;
use crate::anonymous_feed::AnonymousFeed;
use crate::configuration::{redact_url_password, Settings};
use crate::db::Db;
use crate::error::AppError;
use crate::feed_cache::FeedCache;
use crate::feed_grid::FeedGrid;
use crate::form_tokens::FormTokens;
use crate::health_check;
use crate::health_status::LatestHealth;
use crate::instance::InstanceInfo;
use crate::latency::SimulatedLatency;
use crate::middleware::{
    error_pages::error_pages, request_log::request_log, security_headers::SecurityHeaders,
    session_failures::session_failures, session_validity::session_validity,
};
use crate::password_hashing::PasswordHashing;
use crate::photo_index::{self, PhotoIndex};
use crate::session_store::{AppSessionStore, SessionHealth};
use crate::state::AppState;
use crate::storage::{HotObjects, Storage};
use crate::templates::Templates;
use crate::uploads::orphan_sweep;
use crate::{routes, session_key};

pub const SESSION_COOKIE: &str = "photoscale_session";

pub struct Application {
    address: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        prepare_data_dir(&settings.data_dir).await?;
        let upload_dir = settings.data_dir.join("tmp");
        clear_stale_uploads(&upload_dir).await?;

        let listener = TcpListener::bind(settings.bind).with_context(|| {
            format!(
                "cannot listen on {}; fix: is another server using it? choose another with --bind ADDR:PORT",
                settings.bind
            )
        })?;
        let address = listener.local_addr()?;

        let url = settings.database_url();
        let db = Db::connect(&url, &settings.database)
            .await
            .with_context(|| format!("database {}", redact_url_password(url.expose_secret())))?;
        let storage = Storage::from_settings(&settings)
            .await
            .context("opening photo storage")?;
        let session_key = session_key::load_or_create(&settings)
            .await
            .context("loading the session key")?;
        let session_health = SessionHealth::default();
        let session_store =
            AppSessionStore::from_settings(&settings.sessions, session_health.clone())
                .await
                .context("setting up the session store (sessions.backend)")?;
        let feed_cache = FeedCache::from_settings(&settings.cache)
            .context("setting up the feed cache (cache.backend)")?;
        let csp = content_security_policy(&storage, settings.storage.cdn_base_url.as_deref()).await;

        let state = web::Data::new(AppState {
            instance: InstanceInfo::new(settings.instance.id.as_deref(), address),
            latency: SimulatedLatency::new(settings.latency),
            templates: Templates::load().context("loading templates")?,
            passwords: PasswordHashing::per_cpu(settings.limits.hashing_wait),
            form_tokens: FormTokens::new(&session_key, settings.sessions.secure_cookie),
            limits: AbuseLimits::from_settings(&settings)
                .context("setting up the abuse limits' store")?,
            decode_budget: Semaphore::new(kib(settings.uploads.decode_memory_bytes)),
            upload_dir,
            db,
            storage,
            photos: PhotoIndex::new(photo_index::DEFAULT_CAPACITY),
            hot_objects: HotObjects::new(
                settings.storage.memory_cache_bytes,
                settings.storage.memory_cache_max_object_bytes,
            ),
            feed_cache,
            feed_grid: FeedGrid::default(),
            anonymous_feed: AnonymousFeed::default(),
            session_health,
            health: LatestHealth::not_yet(),
            settings: settings.clone(),
        });
        health_check::refresh(&state).await;
        health_check::keep_checking(&state.clone().into_inner());
        orphan_sweep::keep_sweeping(&state.clone().into_inner());
        crate::backup::schedule::keep_backing_up(&state.clone().into_inner());
        tracing::info!(
            instance_id = %state.instance.id,
            address = %address,
            database = %redact_url_password(url.expose_secret()),
            storage = %state.storage.describe(),
            sessions = ?settings.sessions.backend,
            cache = state.feed_cache.describe(),
            "photoscale is listening on http://{address}"
        );
        let sessions = SessionSetup {
            store: session_store,
            key: session_key,
        };
        let server = run(listener, state.clone(), sessions, csp, &settings)?;
        Ok(Self {
            address,
            server,
            state,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Shared state, for tests that need to reach behind the HTTP interface.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT or `handle().stop()`, then lets in-flight
    /// requests finish (up to `server.shutdown_timeout`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// What every worker needs to build its session middleware.
struct SessionSetup {
    store: AppSessionStore,
    key: Key,
}

fn run(
    listener: TcpListener,
    state: web::Data<AppState>,
    sessions: SessionSetup,
    csp: String,
    settings: &Settings,
) -> anyhow::Result<Server> {
    let secure_cookie = settings.sessions.secure_cookie;
    let headers = web::Data::new(SecurityHeaders::new(&csp, settings.server.hsts));
    let ttl = actix_web::cookie::time::Duration::seconds(settings.sessions.ttl.as_secs() as i64);
    let mut server = HttpServer::new(move || {
        let session_middleware =
            SessionMiddleware::builder(sessions.store.clone(), sessions.key.clone())
                .cookie_name(SESSION_COOKIE.to_owned())
                .cookie_secure(secure_cookie)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(PersistentSession::default().session_ttl(ttl))
                .build();
        App::new()
            .app_data(state.clone())
            .app_data(headers.clone())
            .app_data(form_config())
            .app_data(query_config())
            .configure(routes::configure)
            .wrap(from_fn(error_pages))
            .wrap(from_fn(session_validity))
            .wrap(session_middleware)
            .wrap(from_fn(session_failures))
            .wrap(from_fn(request_log))
    })
    .on_connect(disable_nagle)
    .shutdown_timeout(settings.server.shutdown_timeout.as_secs().max(1));
    if let Some(workers) = settings.server.workers {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}

/// Responses go out as soon as they are written. With Nagle's algorithm on,
/// a body written after its headers (a streamed photo) waits for the
/// client's delayed ACK: 40 ms per response on Linux.
fn disable_nagle(connection: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    }
}

/// Malformed forms and query strings get our 400 page, not a bare text error.
fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(16 * 1024)
        .error_handler(|err, _| {
            AppError::BadRequest(format!("The form could not be read: {err}.")).into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        AppError::BadRequest(format!("The address has a bad parameter: {err}.")).into()
    })
}

/// Photos may load from the bucket (presigned URLs) or a CDN, so their
/// origins join `img-src`; everything else stays same-origin.
async fn content_security_policy(storage: &Storage, cdn_base_url: Option<&str>) -> String {
    let mut img_src = vec!["'self'".to_owned(), "data:".to_owned(), "blob:".to_owned()];
    if let Some(origin) = storage.foreign_origin().await {
        img_src.push(origin);
    }
    if let Some(cdn) = cdn_base_url.and_then(|u| url::Url::parse(u).ok()) {
        img_src.push(cdn.origin().ascii_serialization());
    }
    format!(
        "default-src 'self'; img-src {}; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        img_src.join(" ")
    )
}

/// The data directory holds the database, the photos and the session key:
/// owner-only (0700), whether this run made it or an earlier one did.
async fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let cannot = || {
        format!(
            "cannot create the data directory {}; fix: choose a writable --data-dir",
            dir.display()
        )
    };
    tokio::fs::create_dir_all(dir.join("tmp"))
        .await
        .with_context(cannot)?;
    for path in [dir.to_owned(), dir.join("tmp")] {
        tokio::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
            .await
            .with_context(|| {
                format!(
                    "cannot make {} owner-only; fix: run as the directory's owner, or choose another --data-dir",
                    path.display()
                )
            })?;
    }
    Ok(())
}

/// Uploads interrupted by a crash leave `.part` files; nothing else uses them.
async fn clear_stale_uploads(dir: &Path) -> anyhow::Result<()> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        if entry.file_name().to_string_lossy().ends_with(".part") {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
    Ok(())
}

/// Whole KiB in `bytes`, as semaphore permits.
pub fn kib(bytes: u64) -> usize {
    usize::try_from(bytes / 1024)
        .unwrap_or(usize::MAX)
        .min(Semaphore::MAX_PERMITS)
}
