//! Register, log in, log out. Every POST checks the CSRF token first.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::see_other;
use crate::abuse_limits::Limited;
use crate::audit::AuditEvent;
use crate::client_address::client_ip;
use crate::db::DbError;
use crate::domain::{Password, RedirectTarget, Username};
use crate::error::AppError;
use crate::page::Page;
use crate::session::{AppSession, SessionUser};
use crate::state::AppState;

const LOGIN_FAILED: &str = "Incorrect username or password.";

#[derive(Deserialize)]
pub struct RegisterForm {
    username: String,
    password: String,
    password_confirm: String,
    csrf_token: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf_token: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf_token: Option<String>,
}

type FieldErrors = BTreeMap<&'static str, String>;

/// What a login or register page shows: the form, what was typed, what was wrong.
struct FormView<'a> {
    template: &'static str,
    status: StatusCode,
    username: &'a str,
    errors: FieldErrors,
    next: Option<RedirectTarget>,
}

impl<'a> FormView<'a> {
    fn blank(template: &'static str) -> Self {
        Self {
            template,
            status: StatusCode::OK,
            username: "",
            errors: FieldErrors::new(),
            next: None,
        }
    }

    fn retry(
        template: &'static str,
        status: StatusCode,
        username: &'a str,
        errors: FieldErrors,
    ) -> Self {
        Self {
            status,
            username,
            errors,
            ..Self::blank(template)
        }
    }

    fn with_next(mut self, next: Option<&str>) -> Self {
        self.next = next.and_then(RedirectTarget::parse);
        self
    }

    fn respond(&self, req: &HttpRequest, state: &AppState) -> Result<HttpResponse, AppError> {
        let mut page = Page::new(req, state, true);
        // A visitor without a session gets a signed form token, not a session.
        let mut new_cookie = None;
        if AppSession::of(req).csrf_token().is_none() {
            let (token, cookie) = state.form_tokens.token(req);
            page = page.with_form_token(&token);
            new_cookie = cookie;
        }
        let mut response = page
            .with("username", self.username)
            .with("errors", &self.errors)
            .with("next", &self.next.as_ref().map(RedirectTarget::as_str))
            .respond(state, self.template, self.status)?;
        if let Some(cookie) = new_cookie {
            response
                .add_cookie(&cookie)
                .map_err(|e| AppError::internal(format!("form cookie: {e}")))?;
        }
        Ok(response)
    }
}

pub async fn register_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    FormView::blank("register.html").respond(&req, &state)
}

pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AppSession,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, AppError> {
    session.verify_csrf(form.csrf_token.as_deref())?;
    let address = client_address(&req, &state).map(Limited::SignupAddress);
    let limited: Vec<Limited> = address.into_iter().collect();
    state.limits.check(&limited).await?;
    state.limits.count(&limited).await;
    let mut errors = FieldErrors::new();
    let username = Username::parse(&form.username)
        .map_err(|e| errors.insert("username", e))
        .ok();
    let password = Password::parse(&form.password)
        .map_err(|e| errors.insert("password", e))
        .ok();
    if form.password != form.password_confirm {
        errors.insert("password_confirm", "The two passwords do not match.".into());
    }
    let (Some(username), Some(password), true) = (username, password, errors.is_empty()) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return FormView::retry("register.html", status, &form.username, errors)
            .respond(&req, &state);
    };

    let hash = state.passwords.hash(password).await?;
    let user_id = match state.db.create_user(&username, &hash).await {
        Ok(id) => id,
        Err(DbError::UsernameTaken) => {
            errors.insert(
                "username",
                "That username is taken. Please choose another.".into(),
            );
            let status = StatusCode::CONFLICT;
            return FormView::retry("register.html", status, &form.username, errors)
                .respond(&req, &state);
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user_id, "user registered");
    let username = username.to_string();
    session.set_flash(&format!(
        "Welcome, {username}! You can upload your first photo now."
    ))?;
    session.log_in(
        SessionUser {
            id: user_id,
            username,
        },
        0,
    )?;
    Ok(see_other("/"))
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    FormView::blank("login.html")
        .with_next(query.next.as_deref())
        .respond(&req, &state)
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AppSession,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    session.verify_csrf(form.csrf_token.as_deref())?;
    let next = form.next.as_deref();
    let limited = login_limits(&req, &state, &form.username);
    state.limits.check(&limited).await?;
    let Some((user, generation)) =
        check_credentials(&state, &form.username, &form.password).await?
    else {
        state.limits.count(&limited).await;
        let errors = FieldErrors::from([("form", LOGIN_FAILED.to_owned())]);
        let status = StatusCode::UNAUTHORIZED;
        let mut response = FormView::retry("login.html", status, &form.username, errors)
            .with_next(next)
            .respond(&req, &state)?;
        AuditEvent::LoginFailed {
            username: audit_name(&form.username),
        }
        .mark(&mut response);
        return Ok(response);
    };
    // The owner got in: the account's count starts again (the address's
    // does not, or one good account would cover guesses at others).
    if let Some(account) = limited
        .iter()
        .find(|l| matches!(l, Limited::LoginAccount(_)))
    {
        state.limits.reset(account).await;
    }
    tracing::info!(user_id = user.id, "user logged in");
    session.log_in(user, generation)?;
    let target = next.and_then(RedirectTarget::parse);
    Ok(see_other(
        target.as_ref().map_or("/", RedirectTarget::as_str),
    ))
}

/// The user and their session generation, when the name exists and the
/// password matches. Unknown names still pay for one hash check, so timing
/// does not reveal which names exist.
async fn check_credentials(
    state: &AppState,
    raw_name: &str,
    raw_password: &str,
) -> Result<Option<(SessionUser, i64)>, AppError> {
    let (Ok(username), Some(password)) =
        (Username::parse(raw_name), Password::for_login(raw_password))
    else {
        return Ok(None);
    };
    let user = state.db.find_user(&username).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state.passwords.verify_login(password, hash).await?;
    Ok(user.filter(|_| matches).map(|u| {
        let user = SessionUser {
            id: u.id,
            username: u.username,
        };
        (user, u.session_generation)
    }))
}

pub async fn logout(
    session: AppSession,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, AppError> {
    session.verify_csrf(form.csrf_token.as_deref())?;
    session.log_out();
    Ok(see_other("/"))
}

/// The name a failed login tried, fit for a log line: what was typed may be
/// anything (a password pasted into the wrong field), so only a valid
/// username is written as it is.
fn audit_name(raw: &str) -> String {
    match Username::parse(raw) {
        Ok(name) => name.as_str().to_owned(),
        Err(_) => format!("(not a valid username, {} characters)", raw.chars().count()),
    }
}

fn client_address(req: &HttpRequest, state: &AppState) -> Option<std::net::IpAddr> {
    client_ip(req, &state.settings.server.trusted_proxies)
}

/// A login counts against the account it names (when that is a valid
/// username) and against the address it comes from.
fn login_limits(req: &HttpRequest, state: &AppState, raw_name: &str) -> Vec<Limited> {
    let account = Username::parse(raw_name)
        .ok()
        .map(|name| Limited::LoginAccount(name.key()));
    let address = client_address(req, state).map(Limited::LoginAddress);
    account.into_iter().chain(address).collect()
}
