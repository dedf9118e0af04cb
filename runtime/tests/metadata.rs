//! `client/metadata.scale` is the runtime's metadata: `gonka-client` generates its typed
//! calls, events, storage and runtime API code from that file at compile time, so a
//! runtime change that the client has not caught up with fails here, not on a host's
//! machine. After changing the runtime, rewrite the file with
//! `GONKA_UPDATE_METADATA=1 cargo test -p gonka-runtime --test metadata` (or
//! `bash scripts/metadata.sh`) and rebuild the client.

use gonka_runtime::Runtime;

/// The metadata version the client is generated from (the newest the runtime serves).
const VERSION: u32 = 16;

fn committed_path() -> std::path::PathBuf {
	std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../client/metadata.scale")
}

#[test]
fn the_clients_metadata_is_the_runtimes() {
	// Metadata reads storage versions: it needs externalities, not genesis.
	let metadata = polkadot_sdk::sp_io::TestExternalities::default().execute_with(|| {
		assert!(Runtime::metadata_versions().contains(&VERSION), "the runtime serves V{VERSION}");
		Runtime::metadata_at_version(VERSION).expect("the runtime serves V16")
	});
	let current: &[u8] = &metadata;
	let path = committed_path();
	if std::env::var_os("GONKA_UPDATE_METADATA").is_some() {
		std::fs::write(&path, current).expect("client/metadata.scale is writable");
		return;
	}
	let committed = std::fs::read(&path).unwrap_or_default();
	assert!(
		committed == current,
		"{} ({} bytes) is not the runtime's metadata V{VERSION} ({} bytes): run \
		 `bash scripts/metadata.sh` and rebuild gonka-client",
		path.display(),
		committed.len(),
		current.len(),
	);
}
