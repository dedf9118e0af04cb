//! Storage migrations, each run on a state written in the old layout.

use super::*;
use crate::migrations::v1::{v0, MigrateV0ToV1};
use gonka_primitives::bounds::MaxEndTokens;
use polkadot_sdk::{
	frame_support::{
		storage::unhashed,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
		BoundedVec,
	},
	sp_runtime::traits::Convert,
};

/// The end tokens the runtime knows: `[0, 2]` for weights digest `[1; 32]`, none otherwise.
struct KnownEndTokens;
impl Convert<[u8; 32], BoundedVec<u32, MaxEndTokens>> for KnownEndTokens {
	fn convert(digest: [u8; 32]) -> BoundedVec<u32, MaxEndTokens> {
		if digest == [1; 32] {
			vec![0, 2].try_into().unwrap()
		} else {
			BoundedVec::new()
		}
	}
}

fn old_record(new: &ModelRecordOf<Test>) -> v0::ModelRecord<u64> {
	v0::ModelRecord {
		name: new.name.to_vec(),
		architecture: new.architecture.to_vec(),
		quantization: new.quantization.to_vec(),
		weights_digest: new.weights_digest,
		tokenizer_digest: new.tokenizer_digest,
		poc: new.poc,
		coefficient: new.coefficient,
		validation_threshold: new.validation_threshold,
		template_overhead: new.template_overhead,
		price: new.price,
		max_context: new.max_context,
	}
}

fn old_info(new: &ModelInfoOf<Test>) -> v0::ModelInfo<u64> {
	v0::ModelInfo {
		record: old_record(&new.record),
		status: new.status,
		pending: new.pending.as_ref().map(|change| match change {
			PendingChange::Approve => v0::PendingChange::Approve,
			PendingChange::Update(record) => v0::PendingChange::Update(old_record(record)),
			PendingChange::Retire => v0::PendingChange::Retire,
		}),
	}
}

#[test]
fn the_v1_migration_gives_every_record_its_end_tokens() {
	ExtBuilder::default().build_and_execute(|| {
		// The genesis model 0 with an update scheduled, and model 1 (another digest)
		// proposed, written as version 0 laid them out.
		let mut update = record("SmolLM2 v2");
		update.price = 20;
		assert_ok!(Models::update_model(root(), 0, update.clone()));
		let mut other = record("other");
		other.weights_digest = [9; 32];
		other.end_tokens = vec![5].try_into().unwrap();
		assert_ok!(Models::register_model(root(), other.clone()));
		let mut before: Vec<_> = Registry::<Test>::iter().collect();
		before.sort_by_key(|(id, _)| *id);
		assert_eq!(before.len(), 2);
		for (id, info) in &before {
			unhashed::put_raw(&Registry::<Test>::hashed_key_for(id), &old_info(info).encode());
		}
		StorageVersion::new(0).put::<Models>();
		assert!(Registry::<Test>::try_get(0).is_err(), "version 0 does not decode as version 1");

		MigrateV0ToV1::<Test, KnownEndTokens>::on_runtime_upgrade();

		assert_eq!(Models::on_chain_storage_version(), 1);
		assert_eq!(Registry::<Test>::count(), 2);
		let known = Registry::<Test>::get(0).unwrap();
		assert_eq!(known.record.end_tokens.to_vec(), vec![0, 2], "the known model's end tokens");
		assert_eq!(known, before[0].1.clone());
		assert_eq!(known.pending, Some(PendingChange::Update(update)), "its update kept");
		let unknown = Registry::<Test>::get(1).unwrap();
		assert!(unknown.record.end_tokens.is_empty(), "an unknown model has none");
		let other = ModelRecord { end_tokens: BoundedVec::new(), ..other };
		assert_eq!(unknown, ModelInfo { record: other, ..before[1].1.clone() });

		// Once at version 1, the migration does nothing.
		MigrateV0ToV1::<Test, KnownEndTokens>::on_runtime_upgrade();
		assert_eq!(Registry::<Test>::get(1), Some(unknown));
	});
}
