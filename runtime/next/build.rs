//! Builds the runtime's wasm once more with its `next-version` feature (`WASM_BINARY` of this
//! crate), unless `SKIP_WASM_BUILD` is set.
//!
//! The wasm builder keeps one project per crate name (`wbuild/gonka-runtime-next`, with its
//! own target directory), so this build never touches the runtime's own wasm, which the node
//! and the committed chain specs embed. The feature is enabled in the wasm project only.

#[cfg(feature = "std")]
fn main() {
	let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
	let workspace_dir = std::path::Path::new(&manifest_dir)
		.ancestors()
		.nth(2)
		.expect("the crate lives in runtime/next of the workspace")
		.display()
		.to_string();
	// As the runtime's build.rs: the wasm project lives in the target directory, which may
	// be outside the workspace; the wasm is built from our Cargo.lock.
	if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
		std::env::set_var("WASM_BUILD_WORKSPACE_HINT", &workspace_dir);
	}
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_feature("next-version")
		.build();
}

#[cfg(not(feature = "std"))]
fn main() {}
