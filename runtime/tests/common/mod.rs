//! Shared by the runtime's integration tests: a chain's genesis state from a preset.

use gonka_runtime::{genesis_config_presets::get_preset, RuntimeGenesisConfig, System};
use polkadot_sdk::{
	frame_support::genesis_builder_helper::build_state, sp_genesis_builder::PresetId,
	sp_io::TestExternalities,
};

/// Applies a preset's JSON patch to the default genesis config, as the node does.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

/// Externalities holding the genesis state of preset `name`, at block 1.
pub fn chain_from_preset(name: &str) -> TestExternalities {
	let patch = get_preset(&PresetId::from(name)).expect("the preset exists");
	let mut config =
		serde_json::to_value(RuntimeGenesisConfig::default()).expect("the default config is JSON");
	merge(&mut config, serde_json::from_slice(&patch).expect("the preset is JSON"));
	let mut ext = TestExternalities::new_empty();
	ext.execute_with(|| {
		build_state::<RuntimeGenesisConfig>(serde_json::to_vec(&config).expect("JSON"))
			.expect("the preset builds a genesis state");
		// Events are only recorded from block 1 on.
		System::set_block_number(1);
	});
	ext
}
