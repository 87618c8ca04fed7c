//! The reference server for page-like cases: actix-web answering "Hello,
//! world!" with nothing else, on as many workers as photoscale uses (one per
//! CPU). Whatever photoscale does beyond this is what its ratio measures.
//!
//!     hello 127.0.0.1:18080

use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18080".to_owned());
    HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async { HttpResponse::Ok().body("Hello, world!") }),
        )
    })
    .bind(&bind)?
    .run()
    .await
}
