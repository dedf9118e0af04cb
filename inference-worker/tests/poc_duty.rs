//! The PoC duties' job logic against an in-memory chain and in-memory peers (no node, no
//! model, no network): a whole epoch between two hosts (commit, serve, validate each
//! other), the rules of `protocol.md`'s "Proof of Compute" a worker carries out, cheaters
//! and bad peers (random artifacts, unreachable endpoint, malformed proofs), and restarts
//! in the middle of each phase without a smaller commitment or a second batch.

use gonka_client::{Commitment, PocParams};
use gonka_primitives::{
	bounds::POC_SAMPLE_SIZE,
	duty::{PocCommit, Verdict},
	hash_concat, EpochIndex, HostId, ModelId, H256,
};
use gonka_worker::{
	api::proofs::{ProofBook, WireLeaf},
	duty::{
		artifacts::{ArtifactStore, ARTIFACT_BYTES},
		journal::Journal,
		poc::{
			judge, last_chance, FetchError, PocChain, PocCheat, PocDuty, PocEpoch, PocModel,
			PocSettings, PocState, PocStepError, ProofSource, Prover, ServedLeaf,
			LAST_CHANCE_BLOCKS,
		},
		SubmitError,
	},
};
use half::f16;
use polkadot_sdk::sp_arithmetic::Perbill;
use std::{
	cell::{Cell, RefCell},
	collections::BTreeMap,
	path::Path,
	rc::Rc,
};

const MODEL: ModelId = 0;
/// The development chain's model parameters.
const PARAMS: PocParams = PocParams {
	seq_len: 64,
	dist_threshold: Perbill::from_percent(20),
	p_mismatch: Perbill::from_parts(1_000_000),
	p_value: Perbill::from_percent(2),
};
/// Epoch 3 starts at block 100: 4 blocks of generation, 1 of delay, 4 of validation.
const EPOCH: PocEpoch = PocEpoch {
	index: 3,
	start: 100,
	length: 16,
	generation: 4,
	delay: 1,
	validation: 4,
	seed: H256([7; 32]),
	finalized: 99,
};

fn host(i: u8) -> HostId {
	HostId::new([i; 32])
}

fn endpoint(host: &HostId) -> String {
	format!("http://{host}")
}

/// The chain's side, shared by the hosts (and restarts) of one test.
#[derive(Default)]
struct World {
	epoch: Option<PocEpoch>,
	commitments: BTreeMap<(EpochIndex, HostId, ModelId), (Commitment, u32)>,
	/// Every commitment included, with its sender.
	commits: Vec<(HostId, PocCommit)>,
	/// Every batch included: validator, epoch, model, verdicts.
	batches: Vec<(HostId, EpochIndex, ModelId, Vec<Verdict>)>,
	/// While set, every call fails as if the node were down.
	down: bool,
	/// The first finalized block at which the epoch's rosters are built (the chain builds
	/// them over blocks); `None`: as soon as validation opens.
	rosters_built_at: Option<u32>,
	/// Whether a commitment the pool accepted shows only once the next block is finalized
	/// (as on a node); otherwise at once.
	included_next_block: bool,
	/// Commitments accepted, not yet included.
	pending: Vec<(HostId, PocCommit)>,
}

impl World {
	fn new() -> Rc<RefCell<World>> {
		Rc::new(RefCell::new(World { epoch: Some(EPOCH), ..World::default() }))
	}

	fn finalize(&mut self, number: u32) {
		if let Some(epoch) = self.epoch.as_mut() {
			epoch.finalized = number;
		}
		for (host, commit) in std::mem::take(&mut self.pending) {
			self.include(host, commit);
		}
	}

	fn include(&mut self, host: HostId, commit: PocCommit) {
		let key = (commit.epoch, host.clone(), commit.model);
		let submissions = self.commitments.get(&key).map_or(1, |(_, s)| s + 1);
		self.commitments
			.insert(key, (Commitment { count: commit.count, root: commit.root }, submissions));
		self.commits.push((host, commit));
	}

	fn next_offset(&self) -> u32 {
		let epoch = self.epoch.expect("an epoch");
		epoch.finalized + 1 - epoch.start
	}

	fn committed(&self, host: &HostId) -> Option<u64> {
		self.commitments.get(&(EPOCH.index, host.clone(), MODEL)).map(|(c, _)| c.count)
	}

	fn verdicts_of(&self, validator: &HostId) -> Vec<Vec<Verdict>> {
		self.batches
			.iter()
			.filter(|(v, ..)| v == validator)
			.map(|(.., verdicts)| verdicts.clone())
			.collect()
	}
}

struct Chain {
	world: Rc<RefCell<World>>,
	host: HostId,
}

fn down() -> SubmitError {
	SubmitError::Unavailable("connection refused".into())
}

impl PocChain for Chain {
	fn host(&self) -> &HostId {
		&self.host
	}

	fn genesis_hash(&self) -> H256 {
		H256([1; 32])
	}

	async fn poc_epoch(&self) -> Result<Option<PocEpoch>, SubmitError> {
		let world = self.world.borrow();
		if world.down {
			return Err(down());
		}
		Ok(world.epoch)
	}

	async fn block_hash(&self, number: u32) -> Result<H256, SubmitError> {
		if self.world.borrow().down {
			return Err(down());
		}
		Ok(H256(hash_concat(&[b"block", &number.to_le_bytes()])))
	}

	async fn model(&self, model: ModelId) -> Result<Option<PocModel>, SubmitError> {
		if self.world.borrow().down {
			return Err(down());
		}
		Ok((model == MODEL).then_some(PocModel { approved: true, params: PARAMS }))
	}

	async fn roster(
		&self,
		epoch: EpochIndex,
		model: ModelId,
	) -> Result<Option<Vec<HostId>>, SubmitError> {
		let world = self.world.borrow();
		if world.down {
			return Err(down());
		}
		// Built when validation opens, or later.
		let e = world.epoch.expect("an epoch");
		if world.next_offset() <= e.generation + e.delay
			|| world.rosters_built_at.is_some_and(|at| e.finalized < at)
		{
			return Ok(None);
		}
		Ok(Some(
			world
				.commitments
				.keys()
				.filter(|(e, _, m)| *e == epoch && *m == model)
				.map(|(_, host, _)| host.clone())
				.collect(),
		))
	}

	async fn commitment(
		&self,
		epoch: EpochIndex,
		host: &HostId,
		model: ModelId,
	) -> Result<Option<Commitment>, SubmitError> {
		let world = self.world.borrow();
		if world.down {
			return Err(down());
		}
		Ok(world.commitments.get(&(epoch, host.clone(), model)).map(|(c, _)| *c))
	}

	async fn endpoint(&self, host: &HostId) -> Result<Option<String>, SubmitError> {
		if self.world.borrow().down {
			return Err(down());
		}
		Ok(Some(endpoint(host)))
	}

	/// The pallet's rules: generation only, count never smaller, 16 per model and epoch.
	async fn commit(&self, commit: &PocCommit) -> Result<(), SubmitError> {
		let mut world = self.world.borrow_mut();
		if world.down {
			return Err(down());
		}
		let epoch = world.epoch.expect("an epoch");
		if commit.epoch != epoch.index || world.next_offset() >= epoch.generation {
			return Err(SubmitError::Refused("WrongPhase".into()));
		}
		let key = (commit.epoch, self.host.clone(), commit.model);
		let previous = world.commitments.get(&key).copied();
		if let Some((c, submissions)) = previous {
			if commit.count < c.count {
				return Err(SubmitError::Refused("CountDecreased".into()));
			}
			if submissions >= 16 {
				return Err(SubmitError::Refused("CommitBudgetExhausted".into()));
			}
		}
		if world.included_next_block {
			world.pending.push((self.host.clone(), commit.clone()));
		} else {
			world.include(self.host.clone(), commit.clone());
		}
		Ok(())
	}

	/// One batch per validator, model and epoch, in validation only.
	async fn submit_verdicts(
		&self,
		epoch: EpochIndex,
		model: ModelId,
		verdicts: Vec<Verdict>,
	) -> Result<(), SubmitError> {
		let mut world = self.world.borrow_mut();
		if world.down {
			return Err(down());
		}
		let e = world.epoch.expect("an epoch");
		let offset = world.next_offset();
		if offset < e.generation + e.delay || offset >= e.generation + e.delay + e.validation {
			return Err(SubmitError::Refused("WrongPhase".into()));
		}
		if world.batches.iter().any(|(v, e, m, _)| *v == self.host && *e == epoch && *m == model) {
			return Err(SubmitError::Refused("AlreadyValidated".into()));
		}
		world.batches.push((self.host.clone(), epoch, model, verdicts));
		Ok(())
	}
}

/// Artifacts as a pure function of (seed, host, nonce): 12 values in [-1, 1) as f16; an
/// honest validator recomputes them exactly. A cheating prover's are unrelated.
#[derive(Default)]
struct FakeProver {
	cheat: bool,
	/// Nonces computed, over all calls.
	computed: Cell<u64>,
}

fn artifact(seed: &H256, host: &HostId, nonce: u64, salt: &[u8]) -> [u8; ARTIFACT_BYTES] {
	let hash = hash_concat(&[seed.as_bytes(), host.as_ref(), &nonce.to_le_bytes(), salt]);
	let mut bytes = [0u8; ARTIFACT_BYTES];
	for (i, chunk) in bytes.chunks_exact_mut(2).enumerate() {
		let value = (f32::from(hash[i]) - 128.0) / 128.0;
		chunk.copy_from_slice(&f16::from_f32(value).to_le_bytes());
	}
	bytes
}

impl Prover for FakeProver {
	fn serves(&self, model: ModelId) -> bool {
		model == MODEL
	}

	fn artifacts(
		&self,
		_model: ModelId,
		seed: &H256,
		host: &HostId,
		seq_len: u32,
		nonces: &[u64],
	) -> gonka_worker::Result<Vec<[u8; ARTIFACT_BYTES]>> {
		assert_eq!(seq_len, PARAMS.seq_len, "the model's seq_len");
		self.computed.set(self.computed.get() + nonces.len() as u64);
		let salt: &[u8] = if self.cheat { b"random" } else { b"" };
		Ok(nonces.iter().map(|n| artifact(seed, host, *n, salt)).collect())
	}
}

/// How a peer answers.
#[derive(Clone, Copy, PartialEq)]
enum Peer {
	Honest,
	Unreachable,
	/// Every artifact's bytes flipped (the proofs no longer match).
	Tampered,
	/// Hex that is not hex.
	Garbled,
	/// Holds each call until the validator's timeout (`FetchError::Slow`).
	Tarpit,
}

/// The other hosts' proof books, reached by endpoint.
#[derive(Clone, Default)]
struct Peers {
	books: Rc<RefCell<BTreeMap<String, (ProofBook, Peer)>>>,
	fetches: Rc<Cell<u32>>,
}

impl ProofSource for Peers {
	async fn fetch(
		&self,
		endpoint: &str,
		epoch: EpochIndex,
		model: ModelId,
		count: u64,
		indices: &[u64],
	) -> Result<Vec<ServedLeaf>, FetchError> {
		self.fetches.set(self.fetches.get() + 1);
		let failed =
			|reason: String| FetchError::Endpoint { endpoint: endpoint.to_string(), reason };
		let books = self.books.borrow();
		let (book, peer) =
			books.get(endpoint).ok_or_else(|| failed("connection refused".into()))?;
		if *peer == Peer::Unreachable {
			return Err(failed("connection refused".into()));
		}
		if *peer == Peer::Tarpit {
			let reason = "no proofs within 20s".to_string();
			return Err(FetchError::Slow { endpoint: endpoint.to_string(), reason });
		}
		let mut wire =
			book.answer(epoch, model, indices, Some(count)).map_err(|e| failed(e.to_string()))?;
		for leaf in &mut wire {
			match peer {
				Peer::Tampered => {
					let mut bytes = hex::decode(&leaf.artifact[2..]).unwrap();
					bytes.iter_mut().for_each(|b| *b ^= 0x55);
					leaf.artifact = format!("0x{}", hex::encode(bytes));
				}
				Peer::Garbled => {
					leaf.artifact = "0xnot-hex".into();
					leaf.proof = vec!["zz".into()];
				}
				_ => {}
			}
		}
		Ok(wire.iter().map(WireLeaf::parse).collect())
	}
}

/// One host's worker: its duty and what survives a restart (its data directory).
struct Host {
	id: HostId,
	dir: tempfile::TempDir,
	book: ProofBook,
	duty: Option<PocDuty<Chain, Rc<FakeProver>, Peers>>,
	prover: Rc<FakeProver>,
	settings: PocSettings,
}

impl Host {
	fn new(world: &Rc<RefCell<World>>, peers: &Peers, i: u8, peer: Peer, cheat: bool) -> Host {
		let settings = PocSettings { batch: 4, max_nonces: None, cheat: PocCheat::Honest };
		let id = host(i);
		let book = ProofBook::default();
		peers.books.borrow_mut().insert(endpoint(&id), (book.clone(), peer));
		let mut host = Host {
			id,
			dir: tempfile::tempdir().unwrap(),
			book,
			duty: None,
			prover: Rc::new(FakeProver { cheat, ..FakeProver::default() }),
			settings,
		};
		host.start(world, peers);
		host
	}

	/// Starts (or restarts) the worker on its data directory, with a fresh proof server.
	fn start(&mut self, world: &Rc<RefCell<World>>, peers: &Peers) {
		self.book = ProofBook::default();
		if let Some((book, _)) = peers.books.borrow_mut().get_mut(&endpoint(&self.id)) {
			*book = self.book.clone();
		}
		let dir = self.dir.path();
		self.duty = Some(PocDuty::new(
			Chain { world: world.clone(), host: self.id.clone() },
			self.prover.clone(),
			peers.clone(),
			ArtifactStore::open(&dir.join("poc")).unwrap(),
			Journal::open(&dir.join("poc-journal.json")).unwrap(),
			self.book.clone(),
			vec![MODEL],
			self.settings,
		));
	}

	fn step(&mut self) -> Result<gonka_worker::duty::poc::PocProgress, PocStepError> {
		futures::executor::block_on(self.duty.as_mut().unwrap().step())
	}

	fn state(&self) -> PocState {
		self.duty.as_ref().unwrap().state().clone()
	}

	fn on_disk(&self) -> u64 {
		ArtifactStore::open(&self.dir.path().join("poc"))
			.unwrap()
			.load(EPOCH.index, MODEL)
			.unwrap()
			.len() as u64
	}
}

/// Finalizes blocks `from..=to`, stepping every host `steps` times at each.
fn blocks(world: &Rc<RefCell<World>>, hosts: &mut [&mut Host], from: u32, to: u32, steps: u32) {
	for number in from..=to {
		world.borrow_mut().finalize(number);
		for _ in 0..steps {
			for host in hosts.iter_mut() {
				host.step().expect("a step");
			}
		}
	}
}

/// Block numbers of `EPOCH`: the last before generation, the last finalized in
/// generation's view, the one that opens validation, the last of validation.
const BEFORE: u32 = 99;
const LAST_GENERATION_VIEW: u32 = 102;
const VALIDATION_OPEN: u32 = 105;
const LAST_VALIDATION_VIEW: u32 = 107;

#[test]
fn poc_epoch_two_hosts_commit_serve_and_validate_each_other() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut b = Host::new(&world, &peers, 2, Peer::Honest, false);
	blocks(&world, &mut [&mut a, &mut b], BEFORE, LAST_GENERATION_VIEW, 2);
	// Eight nonces per block (two steps of four) over four blocks, but none after the
	// commitment of the last block: they could not be committed.
	for host in [&a, &b] {
		assert_eq!(host.on_disk(), 28);
		let committed = world.borrow().committed(&host.id);
		assert_eq!(committed, Some(28), "the last commitment before generation ends counts");
	}
	// The commitments only grew, one per block at most.
	let counts: Vec<u64> =
		world.borrow().commits.iter().filter(|(h, _)| *h == a.id).map(|(_, c)| c.count).collect();
	assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
	assert!(counts.len() <= 4, "{counts:?}");
	blocks(&world, &mut [&mut a, &mut b], LAST_GENERATION_VIEW + 1, LAST_VALIDATION_VIEW, 1);
	for (validator, other) in [(&a, &b), (&b, &a)] {
		assert_eq!(
			world.borrow().verdicts_of(&validator.id),
			vec![vec![Verdict { host: other.id.clone(), valid: true }]],
			"one batch per model with a verdict on the other host only"
		);
		// Every leaf was recomputed (28 ≤ N): 28 of its own, 28 of the other's.
		assert_eq!(validator.prover.computed.get(), 56);
	}
}

#[test]
fn poc_validation_waits_until_the_chain_has_built_the_rosters() {
	let world = World::new();
	world.borrow_mut().rosters_built_at = Some(LAST_VALIDATION_VIEW);
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut b = Host::new(&world, &peers, 2, Peer::Honest, false);
	blocks(&world, &mut [&mut a, &mut b], BEFORE, LAST_VALIDATION_VIEW - 1, 2);
	assert!(world.borrow().batches.is_empty(), "no batch before the rosters are built");
	blocks(&world, &mut [&mut a, &mut b], LAST_VALIDATION_VIEW, LAST_VALIDATION_VIEW, 1);
	for (validator, other) in [(&a, &b), (&b, &a)] {
		assert_eq!(
			world.borrow().verdicts_of(&validator.id),
			vec![vec![Verdict { host: other.id.clone(), valid: true }]],
			"each host validates the other once the rosters are built"
		);
	}
}

#[test]
fn poc_generation_stops_at_max_nonces() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	a.settings.max_nonces = Some(6);
	a.start(&world, &peers);
	blocks(&world, &mut [&mut a], BEFORE, LAST_GENERATION_VIEW, 3);
	assert_eq!(a.on_disk(), 6);
	assert_eq!(world.borrow().committed(&a.id), Some(6));
}

#[test]
fn poc_validation_random_artifacts_are_judged_invalid() {
	let world = World::new();
	let peers = Peers::default();
	let mut honest = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut cheater = Host::new(&world, &peers, 2, Peer::Honest, true);
	blocks(&world, &mut [&mut honest, &mut cheater], BEFORE, LAST_VALIDATION_VIEW, 1);
	assert_eq!(
		world.borrow().verdicts_of(&honest.id),
		vec![vec![Verdict { host: cheater.id.clone(), valid: false }]]
	);
}

fn judged_by_honest(peer: Peer) -> Vec<Vec<Verdict>> {
	let world = World::new();
	let peers = Peers::default();
	let mut honest = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut bad = Host::new(&world, &peers, 2, peer, false);
	blocks(&world, &mut [&mut honest, &mut bad], BEFORE, LAST_VALIDATION_VIEW, 1);
	let verdicts = world.borrow().verdicts_of(&honest.id);
	verdicts
}

#[test]
fn poc_validation_unreachable_endpoint_counts_as_no_proofs() {
	assert_eq!(
		judged_by_honest(Peer::Unreachable),
		vec![vec![Verdict { host: host(2), valid: false }]]
	);
}

/// Fault (`docs/security.md`): an honest host's worker is busy from the end of generation
/// until validation is over (replaying an inference, say), so it never steps after
/// generation. Rule: a worker serves each commitment as soon as the chain holds it, so
/// its proofs are served all the same and it is judged valid.
#[test]
fn poc_a_host_busy_when_validation_opens_already_serves_its_proofs() {
	let world = World::new();
	let peers = Peers::default();
	let mut validator = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut busy = Host::new(&world, &peers, 2, Peer::Honest, false);
	blocks(&world, &mut [&mut validator, &mut busy], BEFORE, LAST_GENERATION_VIEW, 1);
	blocks(&world, &mut [&mut validator], LAST_GENERATION_VIEW + 1, LAST_VALIDATION_VIEW, 1);
	assert_eq!(
		world.borrow().verdicts_of(&validator.id),
		vec![vec![Verdict { host: busy.id.clone(), valid: true }]]
	);
}

/// Fault (the adversarial review of this rule): commitments show on chain a block after
/// they are sent, so a host's last one, sent for generation's last block, shows only once
/// generation is over, while the host serves the one before. Rule: a worker reads its
/// commitment once more after generation and serves that one; a validator asking for the
/// committed count meanwhile is told "not yet" and asks again.
#[test]
fn poc_a_host_serves_its_last_commitment_included_in_the_last_block_of_generation() {
	let world = World::new();
	world.borrow_mut().included_next_block = true;
	let peers = Peers::default();
	let mut validator = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut host = Host::new(&world, &peers, 2, Peer::Honest, false);
	blocks(&world, &mut [&mut validator, &mut host], BEFORE, LAST_GENERATION_VIEW, 2);
	let sent = host.state().committed[&MODEL];
	assert!(world.borrow().committed(&host.id) < Some(sent), "the last one is not in yet");
	blocks(&world, &mut [&mut validator, &mut host], LAST_GENERATION_VIEW + 1, VALIDATION_OPEN, 1);
	assert_eq!(world.borrow().committed(&host.id), Some(sent));
	blocks(&world, &mut [&mut validator], VALIDATION_OPEN + 1, LAST_VALIDATION_VIEW, 1);
	assert_eq!(
		world.borrow().verdicts_of(&validator.id),
		vec![vec![Verdict { host: host.id.clone(), valid: true }]]
	);
}

/// Rule: a host that serves nothing is asked again 1, 2, 4, … blocks after the ask before,
/// until the last chance (half of validation left): an offline host costs a validator a
/// few asks an epoch, not one a block.
#[test]
fn poc_an_offline_host_is_asked_a_few_times_an_epoch_not_every_block() {
	let world = World::new();
	// Validation from block 105 to 136.
	world.borrow_mut().epoch = Some(PocEpoch { validation: 32, length: 48, ..EPOCH });
	let peers = Peers::default();
	let mut validator = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut offline = Host::new(&world, &peers, 2, Peer::Unreachable, false);
	blocks(&world, &mut [&mut validator, &mut offline], BEFORE, VALIDATION_OPEN - 1, 1);
	let fetches = peers.fetches.get();
	let mut sent_at = None;
	for number in VALIDATION_OPEN..=135 {
		blocks(&world, &mut [&mut validator], number, number, 2);
		if sent_at.is_none() && !world.borrow().verdicts_of(&validator.id).is_empty() {
			sent_at = Some(number);
		}
	}
	// Asked at 105, 106, 108, 112, and at the last chance, 120: 16 blocks left of 32.
	assert_eq!(peers.fetches.get() - fetches, 5);
	assert_eq!(sent_at, Some(120));
	assert_eq!(
		world.borrow().verdicts_of(&validator.id),
		vec![vec![Verdict { host: offline.id.clone(), valid: false }]]
	);
}

/// Sets how `host`'s endpoint answers from now on.
fn answers(peers: &Peers, host: &HostId, peer: Peer) {
	peers.books.borrow_mut().get_mut(&endpoint(host)).expect("a peer").1 = peer;
}

/// Fault (`docs/security.md`): an honest host's endpoint serves nothing on the first
/// block of validation (its server restarting, its link down for a moment). Rule: a
/// validator asks again on later blocks, and judges "no proofs" only when
/// `LAST_CHANCE_BLOCKS` of validation are left; the verdicts reached meanwhile wait in
/// one batch.
#[test]
fn poc_a_host_that_serves_late_is_asked_again_before_it_is_judged() {
	let world = World::new();
	let peers = Peers::default();
	let mut validator = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut late = Host::new(&world, &peers, 2, Peer::Honest, false);
	let mut punctual = Host::new(&world, &peers, 3, Peer::Honest, false);
	let mut hosts = [&mut validator, &mut late, &mut punctual];
	blocks(&world, &mut hosts, BEFORE, VALIDATION_OPEN - 1, 1);
	answers(&peers, &late.id, Peer::Unreachable);
	let fetches = peers.fetches.get();
	blocks(&world, &mut [&mut validator], VALIDATION_OPEN, VALIDATION_OPEN, 3);
	assert!(world.borrow().verdicts_of(&validator.id).is_empty(), "no batch: asked again");
	assert_eq!(peers.fetches.get(), fetches + 2, "each host asked once in a block");
	let fetches = peers.fetches.get();
	answers(&peers, &late.id, Peer::Honest);
	blocks(&world, &mut [&mut validator], VALIDATION_OPEN + 1, LAST_VALIDATION_VIEW, 1);
	assert_eq!(
		world.borrow().verdicts_of(&validator.id),
		vec![vec![
			Verdict { host: late.id.clone(), valid: true },
			Verdict { host: punctual.id.clone(), valid: true },
		]],
		"one batch, with the late host judged on what it served"
	);
	assert_eq!(peers.fetches.get(), fetches + 1, "only the late host was asked again");
}

/// Rule: a host that serves nothing until `LAST_CHANCE_BLOCKS` of validation are left is
/// judged invalid then, in time for the batch to be included.
#[test]
fn poc_a_host_that_never_serves_is_judged_invalid_at_the_last_chance() {
	let world = World::new();
	let peers = Peers::default();
	let mut validator = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut silent = Host::new(&world, &peers, 2, Peer::Unreachable, false);
	blocks(&world, &mut [&mut validator, &mut silent], BEFORE, VALIDATION_OPEN, 1);
	assert!(world.borrow().verdicts_of(&validator.id).is_empty());
	let at = |finalized| world.borrow().epoch.map(|e| PocEpoch { finalized, ..e }).unwrap();
	assert!(!last_chance(&at(VALIDATION_OPEN)));
	let chance = VALIDATION_OPEN + 1;
	assert!(last_chance(&at(chance)));
	assert_eq!(at(chance).validation_blocks_left(), LAST_CHANCE_BLOCKS);
	blocks(&world, &mut [&mut validator, &mut silent], chance, chance, 1);
	assert_eq!(
		world.borrow().verdicts_of(&validator.id),
		vec![vec![Verdict { host: silent.id.clone(), valid: false }]]
	);
}

/// Attack (`docs/security.md`): a host's endpoint holds every call open until the
/// validator's timeout, so that a validator asking again on every block spends the whole
/// validation waiting and sends its batch too late. Rule: an endpoint that took the whole
/// timeout is judged at once, not asked again; the others are asked at the same time.
#[test]
fn poc_a_host_that_holds_the_call_until_the_timeout_is_judged_at_once() {
	let world = World::new();
	let peers = Peers::default();
	let mut validator = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut tarpit = Host::new(&world, &peers, 2, Peer::Tarpit, false);
	let mut honest = Host::new(&world, &peers, 3, Peer::Honest, false);
	let mut hosts = [&mut validator, &mut tarpit, &mut honest];
	blocks(&world, &mut hosts, BEFORE, VALIDATION_OPEN, 1);
	assert_eq!(
		world.borrow().verdicts_of(&validator.id),
		vec![vec![
			Verdict { host: tarpit.id.clone(), valid: false },
			Verdict { host: honest.id.clone(), valid: true },
		]],
		"judged on the first block of validation"
	);
}

#[test]
fn poc_validation_tampered_artifacts_fail_their_proofs() {
	assert_eq!(
		judged_by_honest(Peer::Tampered),
		vec![vec![Verdict { host: host(2), valid: false }]]
	);
}

#[test]
fn poc_validation_malformed_proofs_are_mismatches() {
	assert_eq!(
		judged_by_honest(Peer::Garbled),
		vec![vec![Verdict { host: host(2), valid: false }]]
	);
}

#[test]
fn poc_sample_is_the_spec_draw_and_at_most_n_leaves() {
	let seed = gonka_primitives::sample::SampleSeed {
		genesis_hash: &H256([1; 32]),
		generation_end_hash: &H256([2; 32]),
		validator: &host(1),
		host: &host(2),
		model: MODEL,
	};
	let indices = seed.leaf_indices(10_000, POC_SAMPLE_SIZE);
	assert_eq!(indices.len(), 200);
	// Leaves outside the sample are never asked for, so a host that computed only those
	// would pass: judge only what was asked.
	let honest: Vec<[u8; ARTIFACT_BYTES]> =
		(0..10_000).map(|n| artifact(&EPOCH.seed, &host(2), n, b"")).collect();
	let tree =
		gonka_primitives::merkle::MerkleTree::from_artifacts(honest.iter().map(|a| a.as_slice()));
	let book = ProofBook::default();
	assert!(book.publish(3, MODEL, honest.clone(), &tree.root()));
	let served: Vec<ServedLeaf> =
		book.answer(3, MODEL, &indices, None).unwrap().iter().map(WireLeaf::parse).collect();
	let judgement = judge(10_000, &tree.root(), &indices, Ok(served), &PARAMS, |nonces| {
		Ok(nonces.iter().map(|n| honest[*n as usize]).collect())
	})
	.unwrap();
	assert!(judgement.valid);
	assert_eq!((judgement.sampled, judgement.mismatches), (200, 0));
}

/// A commitment of 200 leaves of which `bad` are recomputed far away.
fn judge_with_mismatches(bad: u64) -> bool {
	judge_leaves_with_mismatches(200, bad)
}

/// A commitment of `count` leaves (all sampled) of which `bad` are recomputed far away.
fn judge_leaves_with_mismatches(count: u64, bad: u64) -> bool {
	let artifacts: Vec<[u8; ARTIFACT_BYTES]> =
		(0..count).map(|n| artifact(&EPOCH.seed, &host(2), n, b"")).collect();
	let tree = gonka_primitives::merkle::MerkleTree::from_artifacts(
		artifacts.iter().map(|a| a.as_slice()),
	);
	let indices: Vec<u64> = (0..count).collect();
	let book = ProofBook::default();
	assert!(book.publish(3, MODEL, artifacts.clone(), &tree.root()));
	let served =
		book.answer(3, MODEL, &indices, None).unwrap().iter().map(WireLeaf::parse).collect();
	judge(count, &tree.root(), &indices, Ok(served), &PARAMS, |nonces| {
		Ok(nonces
			.iter()
			.map(|n| {
				if *n < bad {
					artifact(&EPOCH.seed, &host(2), *n, b"x")
				} else {
					artifacts[*n as usize]
				}
			})
			.collect())
	})
	.unwrap()
	.valid
}

#[test]
fn poc_binomial_test_at_the_models_p_mismatch_and_p_value() {
	// p_mismatch 0.1%, p_value 2%: P(X ≥ 1 | n = 200) ≈ 18% passes, P(X ≥ 2) ≈ 1.75% fails.
	assert!(judge_with_mismatches(0));
	assert!(judge_with_mismatches(1));
	assert!(!judge_with_mismatches(2));
}

/// In a commitment of 20 leaves or fewer the binomial test alone rejects from one
/// mismatch (P(X ≥ 1 | n = 6) ≈ 0.6% < 2%), and one leaf recomputed too far away is as
/// likely an honest host's rounding on other kernels as a lie (`docs/verification.md`,
/// "Batches"): a single one never convicts; two do. A leaf the host does not show (or
/// proves wrong) is its own doing: one convicts a small commitment as before.
#[test]
fn poc_one_mismatch_in_a_small_commitment_never_convicts() {
	// (A one-leaf commitment faked whole passes: one leaf of gain.)
	for count in [1, 6, 20] {
		assert!(judge_leaves_with_mismatches(count, 0), "{count} leaves, none bad");
		assert!(judge_leaves_with_mismatches(count, 1), "{count} leaves, one bad");
	}
	for count in [6, 20] {
		assert!(!judge_leaves_with_mismatches(count, 2), "{count} leaves, two bad");
	}
	// A one-leaf commitment under a made-up root, its leaf never shown: invalid.
	let judgement = judge(1, &H256([4; 32]), &[0], Ok(vec![]), &PARAMS, |_| {
		panic!("nothing proven, nothing recomputed")
	})
	.unwrap();
	assert!(!judgement.valid);
	assert_eq!((judgement.sampled, judgement.mismatches), (1, 1));
}

#[test]
fn poc_proof_server_refuses_unknown_commitments_too_many_indices_and_wrong_roots() {
	let book = ProofBook::default();
	let artifacts = vec![[3u8; ARTIFACT_BYTES]; 5];
	assert!(
		!book.publish(3, MODEL, artifacts.clone(), &H256([9; 32])),
		"a root that is not theirs"
	);
	assert!(book.answer(3, MODEL, &[0], None).is_err(), "nothing served");
	let root = gonka_primitives::merkle::MerkleTree::from_artifacts(
		artifacts.iter().map(|a| a.as_slice()),
	)
	.root();
	assert!(book.publish(3, MODEL, artifacts, &root));
	assert_eq!(book.answer(3, MODEL, &[0, 4], Some(5)).unwrap().len(), 2);
	let beyond = book.answer(3, MODEL, &[5], None).unwrap_err();
	assert!(beyond.message().contains("beyond"), "{beyond:?}");
	let other = book.answer(3, MODEL, &[0], Some(6)).unwrap_err();
	assert!(other.message().contains("not yet the one of 6"), "another commitment: {other:?}");
	let many = book.answer(3, MODEL, &vec![0; 257], None).unwrap_err();
	assert!(many.message().contains("at most 256"), "{many:?}");
	assert!(book.answer(4, MODEL, &[0], None).is_err(), "another epoch");
	book.retain_from(4);
	assert!(book.answer(3, MODEL, &[0], None).is_err(), "older epochs are dropped");
}

#[test]
fn poc_restart_in_generation_resumes_from_disk_and_never_commits_less() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	blocks(&world, &mut [&mut a], BEFORE, 100, 2);
	let before = world.borrow().committed(&a.id).unwrap();
	assert_eq!(a.on_disk(), 16);
	// Killed: a new process on the same data directory.
	a.duty = None;
	a.start(&world, &peers);
	let computed = a.prover.computed.get();
	blocks(&world, &mut [&mut a], 101, LAST_GENERATION_VIEW, 2);
	assert_eq!(a.prover.computed.get() - computed, 12, "nothing recomputed after the restart");
	assert_eq!(a.on_disk(), 28);
	let after = world.borrow().committed(&a.id).unwrap();
	assert!(after > before);
	assert_eq!(after, 28);
}

#[test]
fn poc_restart_after_generation_serves_exactly_the_committed_prefix() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut b = Host::new(&world, &peers, 2, Peer::Honest, false);
	blocks(&world, &mut [&mut a, &mut b], BEFORE, LAST_GENERATION_VIEW, 2);
	// More artifacts on disk than committed (computed after the last commitment).
	let store = ArtifactStore::open(&b.dir.path().join("poc")).unwrap();
	let extra: Vec<[u8; ARTIFACT_BYTES]> =
		(28..36).map(|n| artifact(&EPOCH.seed, &b.id, n, b"")).collect();
	store.append(EPOCH.index, MODEL, 28, &extra).unwrap();
	// b restarts after generation with an empty proof server.
	b.duty = None;
	b.start(&world, &peers);
	blocks(&world, &mut [&mut a, &mut b], LAST_GENERATION_VIEW + 1, LAST_VALIDATION_VIEW, 1);
	assert_eq!(
		world.borrow().verdicts_of(&a.id),
		vec![vec![Verdict { host: b.id.clone(), valid: true }]],
		"b serves its 28 committed leaves, not 36"
	);
}

#[test]
fn poc_restart_after_the_batch_does_not_send_a_second() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut b = Host::new(&world, &peers, 2, Peer::Honest, false);
	blocks(&world, &mut [&mut a, &mut b], BEFORE, VALIDATION_OPEN, 1);
	assert_eq!(world.borrow().verdicts_of(&a.id).len(), 1);
	assert!(a.state().validated.contains(&MODEL));
	let fetches = peers.fetches.get();
	a.duty = None;
	a.start(&world, &peers);
	blocks(&world, &mut [&mut a, &mut b], VALIDATION_OPEN + 1, LAST_VALIDATION_VIEW, 1);
	assert_eq!(world.borrow().verdicts_of(&a.id).len(), 1);
	assert_eq!(world.borrow().batches.len(), 2);
	assert_eq!(peers.fetches.get(), fetches, "nothing fetched or judged again");
}

#[test]
fn poc_restart_with_a_lost_journal_sends_no_second_batch() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut b = Host::new(&world, &peers, 2, Peer::Honest, false);
	blocks(&world, &mut [&mut a, &mut b], BEFORE, VALIDATION_OPEN, 1);
	// Killed after sending, before its journal recorded it.
	a.duty = None;
	std::fs::remove_file(a.dir.path().join("poc-journal.json")).unwrap();
	a.start(&world, &peers);
	blocks(&world, &mut [&mut a], VALIDATION_OPEN + 1, VALIDATION_OPEN + 1, 1);
	assert_eq!(world.borrow().verdicts_of(&a.id).len(), 1, "the chain refused the copy");
	assert!(a.state().validated.contains(&MODEL), "and the refusal is recorded");
}

#[test]
fn poc_a_new_epoch_drops_the_older_epochs_artifacts() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	blocks(&world, &mut [&mut a], BEFORE, BEFORE, 1);
	assert_eq!(a.on_disk(), 4);
	let next = PocEpoch { index: 4, start: 116, seed: H256([8; 32]), ..EPOCH };
	world.borrow_mut().epoch = Some(next);
	blocks(&world, &mut [&mut a], 115, 115, 1);
	assert_eq!(a.on_disk(), 0, "epoch 3's file is deleted");
	assert_eq!(a.state().epoch, Some(4));
	assert_eq!(a.state().committed.get(&MODEL), Some(&4), "epoch 4's first commitment");
	assert_eq!(a.state().last_commit_block, Some(115));
	assert_eq!(world.borrow().committed(&a.id), Some(4), "the chain keeps epoch 3's");
}

#[test]
fn poc_node_down_stops_the_step_and_loses_nothing() {
	let world = World::new();
	let peers = Peers::default();
	let mut a = Host::new(&world, &peers, 1, Peer::Honest, false);
	blocks(&world, &mut [&mut a], BEFORE, 100, 1);
	world.borrow_mut().down = true;
	assert!(matches!(a.step(), Err(PocStepError::Unavailable(_))));
	world.borrow_mut().down = false;
	blocks(&world, &mut [&mut a], 101, LAST_GENERATION_VIEW, 1);
	assert_eq!(world.borrow().committed(&a.id), Some(a.on_disk()));
}

#[test]
fn poc_artifact_store_drops_a_torn_record() {
	let dir = tempfile::tempdir().unwrap();
	let store = ArtifactStore::open(dir.path()).unwrap();
	store.append(3, MODEL, 0, &[[1; ARTIFACT_BYTES], [2; ARTIFACT_BYTES]]).unwrap();
	let path = dir.path().join("e3-m0.artifacts");
	let mut bytes = std::fs::read(&path).unwrap();
	bytes.extend_from_slice(&[9; 10]);
	std::fs::write(&path, bytes).unwrap();
	assert_eq!(store.load(3, MODEL).unwrap(), vec![[1; ARTIFACT_BYTES], [2; ARTIFACT_BYTES]]);
	// Writing at the count known overwrites the torn tail.
	store.append(3, MODEL, 2, &[[3; ARTIFACT_BYTES]]).unwrap();
	assert_eq!(store.load(3, MODEL).unwrap().len(), 3);
	assert_eq!(std::fs::metadata(&path).unwrap().len(), 3 * ARTIFACT_BYTES as u64);
	store.prune_before(4).unwrap();
	assert!(!Path::new(&path).exists());
}

/// The `test-cheats` worker's PoC cheats, each caught by an honest validator.
#[cfg(feature = "test-cheats")]
fn caught(cheat: PocCheat) -> (Vec<Vec<Verdict>>, u64, u64) {
	let world = World::new();
	let peers = Peers::default();
	let mut honest = Host::new(&world, &peers, 1, Peer::Honest, false);
	let mut cheater = Host::new(&world, &peers, 2, Peer::Honest, false);
	cheater.settings.cheat = cheat;
	cheater.start(&world, &peers);
	blocks(&world, &mut [&mut honest, &mut cheater], BEFORE, LAST_GENERATION_VIEW, 2);
	let committed = world.borrow().committed(&cheater.id).unwrap();
	blocks(
		&world,
		&mut [&mut honest, &mut cheater],
		LAST_GENERATION_VIEW + 1,
		LAST_VALIDATION_VIEW,
		1,
	);
	let verdicts = world.borrow().verdicts_of(&honest.id);
	(verdicts, committed, cheater.prover.computed.get())
}

#[cfg(feature = "test-cheats")]
#[test]
fn poc_cheat_random_artifacts_computes_nothing_and_is_judged_invalid() {
	let (verdicts, committed, computed) = caught(PocCheat::RandomArtifacts);
	assert_eq!(committed, 28);
	// Its prover ran only to validate the honest host's 28 nonces.
	assert_eq!(computed, 28);
	assert_eq!(verdicts, vec![vec![Verdict { host: host(2), valid: false }]]);
}

#[cfg(feature = "test-cheats")]
#[test]
fn poc_cheat_inflated_count_is_judged_invalid() {
	let (verdicts, committed, computed) = caught(PocCheat::InflatedCount);
	assert_eq!(committed, 28);
	// Half of its own nonces (two per batch of four) plus the honest host's 28.
	assert_eq!(computed, 14 + 28);
	assert_eq!(verdicts, vec![vec![Verdict { host: host(2), valid: false }]]);
}
