//! Gives libkycvs.so the soname `libkycvs.so.0` on Linux, so that programs linked against it
//! keep working across compatible releases. Only the cdylib is affected.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libkycvs.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
