//! The account page: change the password (which logs the account out
//! everywhere else) and "log out everywhere". Both bump the user's session
//! generation, which `session_validity` compares sessions with.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::see_other;
use crate::domain::Password;
use crate::error::AppError;
use crate::page::Page;
use crate::session::AppSession;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: Option<String>,
    current_password: String,
    password: String,
    password_confirm: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    csrf_token: Option<String>,
}

type FieldErrors = BTreeMap<&'static str, String>;

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, AppError> {
    let Ok(_) = session.require_user() else {
        return Ok(see_other("/login?next=/account"));
    };
    show(&req, &state, StatusCode::OK, &FieldErrors::new())
}

fn show(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    errors: &FieldErrors,
) -> Result<HttpResponse, AppError> {
    Page::new(req, state, true)
        .with("errors", errors)
        .respond(state, "account.html", status)
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AppSession,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    session.verify_csrf(form.csrf_token.as_deref())?;
    let user = session.require_user()?;
    let mut errors = FieldErrors::new();
    // Re-authentication: a session alone (a borrowed laptop, a stolen
    // cookie) must not be enough to take over the account.
    let current = Password::for_login(&form.current_password);
    let hash = state.db.password_hash(user.id).await?;
    let matches = match current {
        Some(current) => state.passwords.verify_login(current, hash).await?,
        None => false,
    };
    if !matches {
        errors.insert(
            "current_password",
            "That is not your current password.".into(),
        );
    }
    let new = Password::parse(&form.password)
        .map_err(|e| errors.insert("password", e))
        .ok();
    if form.password != form.password_confirm {
        errors.insert("password_confirm", "The two passwords do not match.".into());
    }
    let (Some(new), true) = (new, errors.is_empty()) else {
        return show(&req, &state, StatusCode::UNPROCESSABLE_ENTITY, &errors);
    };
    let hash = state.passwords.hash(new).await?;
    let generation = state.db.set_password(user.id, &hash).await?;
    tracing::info!(user_id = user.id, "password changed; other sessions ended");
    // This browser stays logged in, in a fresh session of the new generation.
    session.set_flash("Password changed. You are logged out everywhere else.")?;
    session.log_in(user, generation)?;
    Ok(see_other("/account"))
}

pub async fn log_out_everywhere(
    state: web::Data<AppState>,
    session: AppSession,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    session.verify_csrf(form.csrf_token.as_deref())?;
    let user = session.require_user()?;
    state.db.bump_session_generation(user.id).await?;
    tracing::info!(user_id = user.id, "logged out everywhere");
    session.log_out();
    Ok(see_other("/"))
}
