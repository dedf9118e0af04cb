//! The runtime APIs: what the collator, wallets and the worker call through `state_call`.

use crate::{
	configs::ConsensusHook, AccountId, Balance, Block, BlockNumber, Channels, Executive, Inference,
	InherentDataExt, Nonce, ParachainSystem, Poc, Rewards, Runtime, RuntimeCall,
	RuntimeGenesisConfig, SessionKeys, System, TransactionPayment, BLOCK_PROCESSING_VELOCITY,
	SLOT_DURATION, VERSION,
};
use alloc::vec::Vec;
use gonka_primitives::{EpochIndex, HostId, ModelId, NonceCount, H256};
use pallet_poc::{runtime_api::HostView, Commitment, EpochInfo, Phase};
use polkadot_sdk::{
	cumulus_primitives_core::{ParaId, RelayProofRequest},
	frame_support::{
		genesis_builder_helper::{build_state, get_preset},
		traits::Get,
		weights::Weight,
	},
	sp_api::impl_runtime_apis,
	sp_core::{crypto::KeyTypeId, OpaqueMetadata},
	sp_runtime::{
		traits::Block as BlockT,
		transaction_validity::{TransactionSource, TransactionValidity},
		ApplyExtrinsicResult,
	},
	*,
};
use sp_version::RuntimeVersion;

/// The Aura key type of this runtime.
type AuraId = crate::AuraId;

impl_runtime_apis! {
	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(SLOT_DURATION)
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl cumulus_primitives_aura::AuraUnincludedSegmentApi<Block> for Runtime {
		fn can_build_upon(
			included_hash: <Block as BlockT>::Hash,
			slot: cumulus_primitives_aura::Slot,
		) -> bool {
			ConsensusHook::can_build_upon(included_hash, slot)
		}
	}

	impl cumulus_primitives_core::RelayParentOffsetApi<Block> for Runtime {
		fn relay_parent_offset() -> u32 {
			<Runtime as cumulus_pallet_parachain_system::Config>::RelayParentOffset::get()
		}

		fn max_claim_queue_offset() -> u8 {
			ParachainSystem::max_claim_queue_offset()
		}
	}

	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block)
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(owner: Vec<u8>, seed: Option<Vec<u8>>) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}

		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}

		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl cumulus_primitives_core::CollectCollationInfo<Block> for Runtime {
		fn collect_collation_info(header: &<Block as BlockT>::Header) -> cumulus_primitives_core::CollationInfo {
			ParachainSystem::collect_collation_info(header)
		}
	}

	impl cumulus_primitives_core::GetParachainInfo<Block> for Runtime {
		fn parachain_id() -> ParaId {
			staging_parachain_info::Pallet::<Runtime>::parachain_id()
		}
	}

	impl cumulus_primitives_core::SchedulingV3EnabledApi<Block> for Runtime {
		fn scheduling_v3_enabled() -> bool {
			<<Runtime as cumulus_pallet_parachain_system::Config>::SchedulingSignatureVerifier
				as cumulus_primitives_core::VerifySchedulingSignature>::V3_SCHEDULING_ENABLED
		}
	}

	impl cumulus_primitives_core::TargetBlockRate<Block> for Runtime {
		fn target_block_rate() -> u32 {
			BLOCK_PROCESSING_VELOCITY
		}
	}

	impl cumulus_primitives_core::KeyToIncludeInRelayProof<Block> for Runtime {
		fn keys_to_prove() -> RelayProofRequest {
			RelayProofRequest::default()
		}
	}

	impl pallet_poc::runtime_api::PocApi<Block, BlockNumber> for Runtime {
		fn epoch() -> Option<(EpochInfo<BlockNumber>, Phase)> {
			Poc::epoch_and_next_phase()
		}

		fn genesis_hash() -> H256 {
			Poc::genesis_hash()
		}

		fn host(host: HostId) -> Option<HostView> {
			Poc::host_view(&host)
		}

		fn commitment(epoch: EpochIndex, host: HostId, model: ModelId) -> Option<Commitment> {
			pallet_poc::Commitments::<Runtime>::get((epoch, model, host))
		}

		fn poc_weight(host: HostId, model: ModelId) -> NonceCount {
			pallet_poc::Pallet::<Runtime>::poc_weight(&host, model)
		}

		fn voting_power(host: HostId) -> u128 {
			pallet_poc::Pallet::<Runtime>::voting_power(&host)
		}

		fn total_voting_power() -> u128 {
			pallet_poc::TotalVotingPower::<Runtime>::get()
		}
	}

	impl pallet_inference::runtime_api::InferenceApi<Block, BlockNumber> for Runtime {
		fn request(
			request: gonka_primitives::inference::RequestId,
		) -> Option<pallet_inference::runtime_api::RequestView<BlockNumber>> {
			Inference::request_view(request)
		}

		fn quote(model: ModelId, prompt_bytes: u32, max_tokens: u32) -> Option<u128> {
			Inference::quote(model, prompt_bytes, max_tokens)
		}

		fn price(model: ModelId) -> Option<u128> {
			Inference::price(model)
		}

		fn host(host: HostId) -> pallet_inference::runtime_api::HostInferenceView {
			Inference::host_view(&host)
		}

		fn validators(request: gonka_primitives::inference::RequestId) -> Option<Vec<HostId>> {
			Inference::sampled_validators(request)
		}
	}

	#[api_version(3)]
	impl pallet_channels::runtime_api::ChannelsApi<Block, BlockNumber> for Runtime {
		fn channel(
			channel: gonka_primitives::channel::ChannelId,
		) -> Option<pallet_channels::runtime_api::ChannelView<BlockNumber>> {
			Channels::channel_view(channel)
		}

		fn allowance(channel: gonka_primitives::channel::ChannelId, host: HostId) -> u128 {
			Channels::allowance(channel, &host)
		}

		fn settled(
			channel: gonka_primitives::channel::ChannelId,
			host: HostId,
		) -> Option<pallet_channels::SettledInfo> {
			Channels::settled(channel, &host)
		}

		fn settlement(
			settlement: gonka_primitives::channel::SettlementId,
		) -> Option<pallet_channels::SettlementRecord<HostId, BlockNumber>> {
			// Kept a period after its window's close (to show misses), answered no more.
			pallet_channels::Settlements::<Runtime>::get(settlement)
				.filter(|_| Channels::window_open(settlement))
		}

		fn samples_for(
			settlement: gonka_primitives::channel::SettlementId,
			validator: HostId,
		) -> Vec<(u32, gonka_primitives::channel::SampleOf)> {
			Channels::samples_for(settlement, &validator)
		}

		fn quote_channel(
			model: ModelId,
			committee: u8,
			max_request_tokens: u32,
		) -> Option<pallet_channels::runtime_api::ChannelQuote> {
			Channels::quote_channel(model, committee, max_request_tokens)
		}

		fn dispute(
			dispute: gonka_primitives::channel::DisputeId,
		) -> Option<pallet_channels::DisputeRecord<HostId, BlockNumber>> {
			pallet_channels::Disputes::<Runtime>::get(dispute)
		}

		fn sits_on(dispute: gonka_primitives::channel::DisputeId, host: HostId) -> bool {
			pallet_channels::Disputes::<Runtime>::get(dispute)
				.and_then(|record| Channels::sits_on(dispute, &record, &host))
				.is_some()
		}

		fn challenge_fee(cost: u128) -> u128 {
			Channels::challenge_fee(cost)
		}
	}

	impl pallet_rewards::runtime_api::RewardsApi<Block> for Runtime {
		fn next_reward() -> (u32, u128) {
			Rewards::next_reward()
		}

		fn host(host: HostId) -> pallet_rewards::runtime_api::HostRewards {
			Rewards::host_view(&host)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_support::traits::StorageInfoTrait;
			let mut list = Vec::<frame_benchmarking::BenchmarkList>::new();
			list_benchmarks!(list, extra);
			(list, crate::AllPalletsWithSystem::storage_info())
		}

		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_support::traits::WhitelistedStorageKeys;
			let whitelist = crate::AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<frame_benchmarking::BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis_config_presets::preset_names()
		}
	}
}
