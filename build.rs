// `sqlx::migrate!` embeds the migrations at compile time but cannot tell
// cargo (on stable) to rebuild when one is added: this line does.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
