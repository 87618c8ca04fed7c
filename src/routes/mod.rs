//! URL → handler. Handlers are thin: parse, call the domain and ports, render.

mod account;
pub mod admin;
pub(crate) mod assets;
mod auth;
mod feed;
mod health;
mod http_cache;
mod photos;
mod upload;

use actix_web::web;

use crate::error::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(feed::show))
        .route("/healthz", web::get().to(health::check))
        .route("/register", web::get().to(auth::register_form))
        .route("/register", web::post().to(auth::register))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/account", web::get().to(account::page))
        .route(
            "/account/password",
            web::post().to(account::change_password),
        )
        .route(
            "/account/logout-everywhere",
            web::post().to(account::log_out_everywhere),
        )
        .route("/upload", web::get().to(upload::form))
        .route("/upload", web::post().to(upload::submit))
        .route("/photos/{id}", web::get().to(photos::page))
        .route("/photos/{id}/{variant}", web::get().to(photos::media))
        .route("/static/{path:.*}", web::get().to(assets::serve))
        .route("/admin/latency", web::get().to(admin::get_latency))
        .route("/admin/latency", web::put().to(admin::set_latency))
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// A 303 redirect, the right answer to a successful form POST.
fn see_other(location: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}
