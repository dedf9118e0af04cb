//! The pallet's events and errors: a pallet section (`#[pallet_section]`), imported into
//! the pallet module in `lib.rs`, where the rest of the pallet is declared.

use polkadot_sdk::frame_support::pallet_macros::pallet_section;

/// Every event the pallet deposits and every error its calls return.
#[pallet_section]
mod poc_events {
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A host registered.
		HostRegistered {
			/// The host's account.
			host: T::AccountId,
			/// The key its worker signs duties with.
			worker_key: sr25519::Public,
			/// The models it serves.
			models: Vec<ModelId>,
		},
		/// A host changed its worker key, endpoint or models.
		HostUpdated {
			/// The host's account.
			host: T::AccountId,
			/// Its worker key after the update.
			worker_key: sr25519::Public,
			/// The models it serves after the update.
			models: Vec<ModelId>,
		},
		/// A host left; its deposit was released.
		HostLeft {
			/// The account that left.
			host: T::AccountId,
		},
		/// An epoch started.
		EpochStarted {
			/// The epoch's index.
			index: EpochIndex,
			/// Its first block (`S`).
			start: BlockNumberFor<T>,
			/// Its PoC seed: the hash of block `S-1`.
			seed: H256,
		},
		/// New epoch parameters were set; they apply from epoch `from_epoch`.
		EpochParamsScheduled {
			/// The phase lengths set.
			params: EpochParamsOf<T>,
			/// The first epoch they apply to (the next one).
			from_epoch: EpochIndex,
		},
		/// A host committed to `count` PoC nonces with Merkle root `root`.
		PocCommitted {
			/// The committing host.
			host: T::AccountId,
			/// The epoch of the commitment.
			epoch: EpochIndex,
			/// The model the nonces were computed with.
			model: ModelId,
			/// How many nonces the host computed.
			count: NonceCount,
			/// The Merkle root of their artifacts.
			root: H256,
		},
		/// A (host, model) commitment was judged at the end of validation; `weight` is its new
		/// PoC weight.
		PocJudged {
			/// The judged host.
			host: T::AccountId,
			/// The epoch of the commitment.
			epoch: EpochIndex,
			/// The model of the commitment.
			model: ModelId,
			/// Accepted, rejected, or no quorum either way.
			outcome: Outcome,
			/// The host's new PoC weight on the model.
			weight: NonceCount,
		},
		/// New weights and voting power are in force: `hosts` hosts hold `total_power`.
		WeightsFormed {
			/// The epoch whose commitments formed them.
			epoch: EpochIndex,
			/// How many hosts have consensus weight.
			hosts: u32,
			/// The sum of their voting power (after the cap).
			total_power: u128,
		},
		/// The epoch accepted no host: the previous weights and power stay in force.
		WeightsCarriedOver {
			/// The epoch that accepted nobody.
			epoch: EpochIndex,
		},
		/// A generation of voting power that no snapshot holds any more is no longer kept
		/// (its records are removed a few per block).
		PowerGenerationPruned {
			/// The deleted generation.
			generation: u32,
		},
		/// A validator sent its verdicts on `verdicts` hosts' commitments for a model.
		PocValidationsSubmitted {
			/// The validating host.
			validator: T::AccountId,
			/// The epoch of the judged commitments.
			epoch: EpochIndex,
			/// The model of the judged commitments.
			model: ModelId,
			/// How many hosts the batch judged.
			verdicts: u32,
		},
		/// A host's voting power was taken away until the next weight formation (another
		/// pallet judged it: `pallet-inference` marked it INVALID).
		PowerRevoked {
			/// The host.
			host: T::AccountId,
			/// The power it had.
			power: u128,
		},
		/// Every validation roster of an epoch is built: its validation batches are accepted.
		ValidationOpened {
			/// The epoch.
			epoch: EpochIndex,
		},
		/// The commitments, rosters and batches of an epoch that left the retention window
		/// are all removed.
		EpochPruned {
			/// The epoch.
			epoch: EpochIndex,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered host.
		AlreadyRegistered,
		/// The account is not a registered host.
		NotRegistered,
		/// The registry holds `MaxHosts` hosts.
		TooManyHosts,
		/// Another host uses this worker key.
		WorkerKeyInUse,
		/// The worker key's proof of ownership does not verify for this host and chain.
		BadKeyProof,
		/// The endpoint is longer than `MaxEndpointLength`.
		EndpointTooLong,
		/// The endpoint is not an `http://` or `https://` URL of visible ASCII characters.
		InvalidEndpoint,
		/// A host must serve at least one model.
		NoModels,
		/// More models than `MaxModelsPerHost`.
		TooManyModels,
		/// A model is listed twice.
		DuplicateModel,
		/// A model is not approved by governance.
		UnknownModel,
		/// Every phase must last at least one block.
		ZeroPhase,
		/// Generation, delay and validation must leave at least one block of the epoch.
		PhasesExceedEpoch,
		/// The registration deposit could not be held.
		InsufficientDeposit,
		/// No epoch has started yet.
		NoEpoch,
		/// The duty is for another epoch than the one in progress.
		WrongEpoch,
		/// The duty is not allowed in the current phase.
		WrongPhase,
		/// The host does not serve this model.
		ModelNotServed,
		/// A commitment must count at least one nonce.
		ZeroCount,
		/// A new commitment must count more nonces than the last one.
		CountNotGrowing,
		/// The host sent `MaxCommitsPerModel` commitments for this model in this epoch.
		CommitBudgetExhausted,
		/// Only hosts with voting power validate.
		NoVotingPower,
		/// The validator already sent its batch for this model in this epoch.
		AlreadyValidated,
		/// A batch must hold at least one verdict.
		NoVerdicts,
		/// Verdicts must be sorted by host, each host once.
		UnsortedVerdicts,
		/// A host never votes on itself.
		SelfVerdict,
		/// A verdict names a host with no commitment for the model in the epoch.
		NoCommitment,
		/// The epoch's validation rosters are still being built: send the batch later.
		RostersNotBuilt,
		/// A host registered during an epoch commits PoC from the next epoch on.
		JoinedThisEpoch,
		/// A host's models change in the inference phase only (they stay fixed from the
		/// start of generation to the end of validation).
		ModelsLockedDuringPoc,
	}
}
