//! The reference for photo bytes: nginx serving copies of the very same
//! files, tuned as a careful operator would (sendfile, long keep-alive, no
//! access log), so its rate is what this machine allows for static files.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tokio::process::Command;

use crate::process::{free_port, Running};

pub struct Nginx {
    pub process: Running,
    pub base: String,
}

/// Starts nginx on a free loopback port serving `root`.
pub async fn start(work: &Path, root: &Path) -> anyhow::Result<Nginx> {
    let program = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .context("nginx is not installed; fix: scripts/install-services (or apt-get install nginx-light)")?;
    let port = free_port()?;
    let dir = work.join("nginx");
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("nginx.conf");
    let d = dir.display();
    std::fs::write(
        &config,
        format!(
            r#"daemon off;
worker_processes auto;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {d}/client;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{ image/jpeg jpg; image/png png; text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        add_header Cache-Control "public, max-age=31536000, immutable";
    }}
}}
"#,
            root = root.display()
        ),
    )?;
    let mut command = Command::new(program);
    // -e: the error log from the very start (before the configuration is
    // read, nginx opens the system's one, which a user may not write).
    let error_log = dir.join("error.log");
    command
        .arg("-c")
        .arg(&config)
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(&error_log);
    let mut process = Running::start("nginx", command, work)?;
    let base = format!("http://127.0.0.1:{port}");
    std::fs::write(root.join("index.html"), "nginx reference\n")?;
    process
        .wait_ready(&format!("{base}/"), Duration::from_secs(10))
        .await?;
    Ok(Nginx { process, base })
}
