//! Ends sessions that must no longer count, before any handler sees them:
//!
//! - a login older than `sessions.ttl`, whatever the browser or the store
//!   kept (a copied cookie stops working when its time is up);
//! - a session made under an older session generation of its user, which
//!   "log out everywhere" and a password change bump. The generation is read
//!   from the database at most once per `sessions.recheck_every` (a minute)
//!   per session, so a logged-in page view does not always pay a database
//!   read. If the database cannot
//!   answer, the session stands until the next check (failing closed would
//!   log everyone out whenever the database blinks).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::session::AppSession;
use crate::state::AppState;

pub async fn session_validity(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
        check(&AppSession::of(req.request()), &state).await;
    }
    next.call(req).await
}

async fn check(session: &AppSession, state: &AppState) {
    let Some(user) = session.user() else {
        return;
    };
    let now = crate::db::now_millis();
    let ttl_ms = i64::try_from(state.settings.sessions.ttl.as_millis()).unwrap_or(i64::MAX);
    let expired = session
        .issued_at()
        .is_none_or(|issued| now - issued > ttl_ms);
    if expired {
        tracing::info!(user_id = user.id, "session past its lifetime ended");
        session.log_out();
        return;
    }
    let Some((generation, checked)) = session.generation() else {
        session.log_out();
        return;
    };
    let every_ms =
        i64::try_from(state.settings.sessions.recheck_every.as_millis()).unwrap_or(i64::MAX);
    if now - checked < every_ms {
        return;
    }
    match state.db.session_generation(user.id).await {
        Ok(Some(current)) if current == generation => {
            let _ = session.generation_checked(now);
        }
        Ok(_) => {
            tracing::info!(user_id = user.id, "session of an older generation ended");
            session.log_out();
        }
        Err(e) => tracing::warn!(error = %e, "session generation not checked"),
    }
}
