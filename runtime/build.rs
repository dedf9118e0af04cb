//! Builds the runtime's wasm blob (`WASM_BINARY`), unless `SKIP_WASM_BUILD` is set.
//!
//! Source paths are remapped to stable prefixes (workspace, cargo home, rustup home), and
//! the scripts build through one fixed path (`scripts/env.sh`), so that the same sources
//! give the same wasm bytes in any checkout: the committed chain specs embed the wasm and a
//! test compares them byte for byte with the runtime built from the tree.

#[cfg(feature = "std")]
fn main() {
	let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
	let workspace_dir = std::path::Path::new(&manifest_dir)
		.parent()
		.expect("the runtime crate lives inside the workspace")
		.display()
		.to_string();
	let home = std::env::var("HOME").unwrap_or_default();
	let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
	// The standard library's sources, which rustc names by their place in the toolchain.
	let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup"));
	// The standard library's sources by the toolchain's real directory (a toolchain may be
	// installed as `1.95.0-…` or reached through a link to `stable-…`): one fixed name.
	let toolchain = std::env::var("WASM_BUILD_TOOLCHAIN").ok();
	let mut rustc =
		std::process::Command::new(if toolchain.is_some() { "rustup" } else { "rustc" });
	if let Some(toolchain) = &toolchain {
		rustc.args(["run", toolchain, "rustc"]);
	}
	let sysroot = rustc
		.args(["--print", "sysroot"])
		.output()
		.ok()
		.and_then(|output| String::from_utf8(output.stdout).ok())
		.map(|sysroot| sysroot.trim().to_string())
		.filter(|sysroot| !sysroot.is_empty());
	// The wasm project lives in the target directory, which may be outside the workspace
	// (scripts/env.sh keeps it in ~/.cache): point the builder at our Cargo.lock so the wasm
	// is built from the locked versions.
	if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
		std::env::set_var("WASM_BUILD_WORKSPACE_HINT", &workspace_dir);
	}
	let builder = substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.append_to_rust_flags(format!("--remap-path-prefix={workspace_dir}=/gonka"))
		.append_to_rust_flags(format!("--remap-path-prefix={cargo_home}=/cargo"))
		.append_to_rust_flags(format!("--remap-path-prefix={rustup_home}=/rustup"));
	// Last, so that it wins over the rustup-home prefix.
	let builder = match sysroot {
		Some(sysroot) => {
			builder.append_to_rust_flags(format!("--remap-path-prefix={sysroot}=/rust"))
		}
		None => builder,
	};
	builder.build();
}

#[cfg(not(feature = "std"))]
fn main() {}
