//! The inference duties' job logic against an in-memory chain (no node, no model): each
//! rule of `protocol.md`'s "Inference" section a worker carries out, restarts in the middle
//! of each job without a duty included twice, and a node that goes away.

use gonka_primitives::{
	inference::{RequestId, SamplingParams},
	HostId, ModelId,
};
use gonka_worker::duty::{
	inference::{InferenceDuty, StepError},
	journal::{corrupt_path, Job, Journal, State},
	Block, Engine, Execution, InferenceChain, InferenceEvent, RequestInfo, Status, SubmitError,
};
use polkadot_sdk::sp_arithmetic::Perbill;
use std::{cell::RefCell, collections::BTreeMap, path::Path, rc::Rc};

const MODEL: ModelId = 0;

fn host(i: u8) -> HostId {
	HostId::new([i; 32])
}

/// A duty the chain received.
#[derive(Clone, Debug, PartialEq)]
enum Sent {
	Finish(RequestId, Execution),
	Validate(RequestId, Perbill),
	Vote(RequestId, bool),
	Missing(RequestId, HostId),
}

/// The chain's side, shared by the workers (and restarts) of one test.
#[derive(Default)]
struct World {
	blocks: Vec<Block>,
	requests: BTreeMap<RequestId, RequestInfo>,
	validators: BTreeMap<RequestId, Vec<HostId>>,
	/// Every duty included, with its sender.
	included: Vec<(HostId, Sent)>,
	/// While set, every call fails as if the node were down.
	down: bool,
}

impl World {
	/// Appends a finalized block with `events`.
	fn block(&mut self, events: Vec<InferenceEvent>) {
		let number = self.blocks.len() as u32;
		self.blocks.push(Block { number, events });
	}

	fn request(&mut self, id: RequestId, executor: HostId) {
		self.requests.insert(
			id,
			RequestInfo {
				model: MODEL,
				prompt: b"What is the capital of France?".to_vec(),
				max_tokens: 8,
				params: SamplingParams::GREEDY,
				executor,
				status: Status::Assigned,
				validation_threshold: Perbill::from_percent(90),
				prompt_tokens: 0,
				token_ids: Vec::new(),
				text: Vec::new(),
			},
		);
	}

	fn duties_of(&self, who: &HostId) -> Vec<Sent> {
		self.included.iter().filter(|(h, _)| h == who).map(|(_, s)| s.clone()).collect()
	}
}

/// One host's view of the shared world; refuses what the real chain refuses.
struct MemoryChain {
	me: HostId,
	world: Rc<RefCell<World>>,
}

impl MemoryChain {
	fn check_up(&self) -> Result<(), SubmitError> {
		if self.world.borrow().down {
			return Err(SubmitError::Unavailable("connection refused".into()));
		}
		Ok(())
	}

	/// Includes `duty` unless the chain already has it from this host.
	fn include(&self, duty: Sent) -> Result<(), SubmitError> {
		self.check_up()?;
		let mut world = self.world.borrow_mut();
		let same = |sent: &Sent| match (sent, &duty) {
			(Sent::Finish(a, _), Sent::Finish(b, _))
			| (Sent::Validate(a, _), Sent::Validate(b, _))
			| (Sent::Vote(a, _), Sent::Vote(b, _)) => a == b,
			(Sent::Missing(a, v), Sent::Missing(b, w)) => a == b && v == w,
			_ => false,
		};
		if world.included.iter().any(|(h, s)| *h == self.me && same(s)) {
			return Err(SubmitError::Refused("Transaction is outdated".into()));
		}
		if let Sent::Finish(id, execution) = &duty {
			let request = world.requests.get_mut(id).expect("a known request");
			request.status = Status::Finished;
			request.prompt_tokens = execution.prompt_tokens;
			request.token_ids = execution.token_ids.clone();
			request.text = execution.text.clone();
		}
		world.included.push((self.me.clone(), duty));
		Ok(())
	}
}

impl InferenceChain for MemoryChain {
	fn host(&self) -> &HostId {
		&self.me
	}
	async fn finalized(&self) -> Result<u32, SubmitError> {
		self.check_up()?;
		Ok(self.world.borrow().blocks.len().saturating_sub(1) as u32)
	}
	async fn block(&self, number: u32) -> Result<Block, SubmitError> {
		self.check_up()?;
		Ok(self.world.borrow().blocks[number as usize].clone())
	}
	async fn request(&self, request: RequestId) -> Result<Option<RequestInfo>, SubmitError> {
		self.check_up()?;
		Ok(self.world.borrow().requests.get(&request).cloned())
	}
	async fn validators(&self, request: RequestId) -> Result<Option<Vec<HostId>>, SubmitError> {
		self.check_up()?;
		Ok(self.world.borrow().validators.get(&request).cloned())
	}
	async fn finish(&self, request: RequestId, execution: &Execution) -> Result<(), SubmitError> {
		self.include(Sent::Finish(request, execution.clone()))
	}
	async fn validate(&self, request: RequestId, similarity: Perbill) -> Result<(), SubmitError> {
		self.include(Sent::Validate(request, similarity))
	}
	async fn vote(&self, request: RequestId, invalid: bool) -> Result<(), SubmitError> {
		self.include(Sent::Vote(request, invalid))
	}
	async fn report_missing(
		&self,
		request: RequestId,
		validator: &HostId,
	) -> Result<(), SubmitError> {
		self.include(Sent::Missing(request, validator.clone()))
	}
}

/// A model double: answers every prompt with the same three tokens, and replays a result
/// as passing iff its tokens are those (an honest executor's).
struct Echo {
	serves: ModelId,
	runs: Rc<RefCell<u32>>,
}

const ANSWER: [u32; 3] = [7, 8, 9];

impl Engine for Echo {
	fn serves(&self, model: ModelId) -> bool {
		model == self.serves
	}
	fn execute(&self, _: RequestId, info: &RequestInfo) -> gonka_worker::Result<Execution> {
		*self.runs.borrow_mut() += 1;
		Ok(Execution {
			prompt_tokens: info.prompt.len() as u32,
			token_ids: ANSWER.to_vec(),
			text: b"Paris".to_vec(),
		})
	}
	fn replay(&self, _: RequestId, info: &RequestInfo) -> gonka_worker::Result<Perbill> {
		*self.runs.borrow_mut() += 1;
		Ok(if info.token_ids == ANSWER { Perbill::one() } else { Perbill::from_percent(20) })
	}
}

/// A worker's duties, and how many times its engine ran.
type Worker = (InferenceDuty<MemoryChain, Echo>, Rc<RefCell<u32>>);

/// Host `i`'s worker over `world`, with its journal under `dir`.
fn worker(i: u8, world: &Rc<RefCell<World>>, dir: &Path) -> Worker {
	let runs = Rc::new(RefCell::new(0));
	let journal = Journal::open(&dir.join(format!("host{i}.json"))).expect("a journal");
	let chain = MemoryChain { me: host(i), world: world.clone() };
	(InferenceDuty::new(chain, Echo { serves: MODEL, runs: runs.clone() }, journal), runs)
}

fn step(duty: &mut InferenceDuty<MemoryChain, Echo>) -> gonka_worker::duty::inference::Progress {
	futures::executor::block_on(duty.step()).expect("the step runs")
}

fn world() -> Rc<RefCell<World>> {
	let world = Rc::new(RefCell::new(World::default()));
	world.borrow_mut().block(Vec::new());
	world
}

#[test]
fn an_assigned_request_is_executed_and_finished_once() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let (mut executor, runs) = worker(1, &world, dir.path());
	step(&mut executor);
	world.borrow_mut().request(5, host(1));
	world.borrow_mut().block(vec![InferenceEvent::Assigned { request: 5, executor: host(1) }]);
	let progress = step(&mut executor);
	assert_eq!((progress.blocks, progress.finished), (1, 1));
	assert_eq!(
		world.borrow().duties_of(&host(1)),
		vec![Sent::Finish(
			5,
			Execution { prompt_tokens: 30, token_ids: ANSWER.to_vec(), text: b"Paris".to_vec() }
		)]
	);
	// Later blocks do not make it run again, nor does a restart.
	world.borrow_mut().block(Vec::new());
	step(&mut executor);
	drop(executor);
	let (mut restarted, _) = worker(1, &world, dir.path());
	step(&mut restarted);
	assert_eq!(world.borrow().duties_of(&host(1)).len(), 1);
	assert_eq!(*runs.borrow(), 1);
}

#[test]
fn a_request_assigned_to_another_host_or_reassigned_away_is_not_executed() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let (mut worker1, _) = worker(1, &world, dir.path());
	step(&mut worker1);
	world.borrow_mut().request(1, host(2));
	world.borrow_mut().request(2, host(1));
	// Request 2 was assigned to host 1, then taken away before it ran.
	world.borrow_mut().requests.get_mut(&2).unwrap().executor = host(3);
	world.borrow_mut().block(vec![
		InferenceEvent::Assigned { request: 1, executor: host(2) },
		InferenceEvent::Assigned { request: 2, executor: host(1) },
	]);
	let progress = step(&mut worker1);
	assert_eq!((progress.finished, progress.dropped), (0, 1));
	assert!(world.borrow().duties_of(&host(1)).is_empty());
	assert!(worker1.journal().state.jobs.is_empty());
}

#[test]
fn a_request_for_a_model_the_worker_does_not_serve_is_left_to_reassignment() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let (mut worker1, runs) = worker(1, &world, dir.path());
	step(&mut worker1);
	world.borrow_mut().request(1, host(1));
	world.borrow_mut().requests.get_mut(&1).unwrap().model = MODEL + 1;
	world.borrow_mut().block(vec![InferenceEvent::Assigned { request: 1, executor: host(1) }]);
	let progress = step(&mut worker1);
	assert_eq!((progress.finished, progress.dropped), (0, 1));
	assert_eq!(*runs.borrow(), 0);
}

/// Host 1 executes request 1; host 2 is sampled, host 3 is not. Returns the workers.
fn finished_by_one(world: &Rc<RefCell<World>>, dir: &Path) -> Vec<Worker> {
	let mut workers: Vec<_> = (1..=3).map(|i| worker(i, world, dir)).collect();
	for (duty, _) in &mut workers {
		step(duty);
	}
	world.borrow_mut().request(1, host(1));
	world.borrow_mut().block(vec![InferenceEvent::Assigned { request: 1, executor: host(1) }]);
	step(&mut workers[0].0);
	world.borrow_mut().block(vec![InferenceEvent::Finished { request: 1, executor: host(1) }]);
	workers
}

#[test]
fn a_sampled_validator_replays_and_reports_and_others_do_not() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let mut workers = finished_by_one(&world, dir.path());
	// The sample is not known until the block after `finish`: the check waits.
	let progress = step(&mut workers[1].0);
	assert_eq!(progress.validated, 0);
	assert!(workers[1].0.journal().state.jobs.contains(&Job::Check(1)));
	world.borrow_mut().validators.insert(1, vec![host(2)]);
	world.borrow_mut().block(Vec::new());
	let progress = step(&mut workers[1].0);
	assert_eq!(progress.validated, 1);
	assert_eq!(world.borrow().duties_of(&host(2)), vec![Sent::Validate(1, Perbill::one())]);
	let progress = step(&mut workers[2].0);
	assert_eq!(progress.validated, 0);
	assert!(world.borrow().duties_of(&host(3)).is_empty());
	assert_eq!(*workers[2].1.borrow(), 0, "an unsampled host does not replay");
}

#[test]
fn a_failed_validation_leads_other_hosts_to_re_check_and_vote() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let mut workers = finished_by_one(&world, dir.path());
	world.borrow_mut().validators.insert(1, vec![host(2)]);
	// The executor's result is not what an honest model gives.
	world.borrow_mut().requests.get_mut(&1).unwrap().token_ids = vec![1, 1, 1];
	world.borrow_mut().block(Vec::new());
	step(&mut workers[1].0);
	assert_eq!(
		world.borrow().duties_of(&host(2)),
		vec![Sent::Validate(1, Perbill::from_percent(20))]
	);
	world.borrow_mut().requests.get_mut(&1).unwrap().status = Status::Voting;
	world.borrow_mut().block(vec![
		InferenceEvent::Reported { request: 1, validator: host(2) },
		InferenceEvent::VoteOpened { request: 1 },
	]);
	for (duty, _) in &mut workers {
		step(duty);
	}
	// Host 3 votes invalid; host 2's report was its vote; the executor does not vote.
	assert_eq!(world.borrow().duties_of(&host(3)), vec![Sent::Vote(1, true)]);
	assert_eq!(world.borrow().duties_of(&host(2)).len(), 1);
	assert_eq!(world.borrow().duties_of(&host(1)).len(), 1);
}

#[test]
fn the_executor_shows_the_sampled_validators_that_did_not_report_once() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let mut workers = finished_by_one(&world, dir.path());
	world.borrow_mut().validators.insert(1, vec![host(2), host(3)]);
	world.borrow_mut().block(vec![InferenceEvent::Reported { request: 1, validator: host(2) }]);
	step(&mut workers[0].0);
	world.borrow_mut().requests.get_mut(&1).unwrap().status = Status::Closed;
	world.borrow_mut().block(vec![InferenceEvent::Closed { request: 1 }]);
	let progress = step(&mut workers[0].0);
	assert_eq!(progress.missing, 1);
	let missing: Vec<Sent> = world
		.borrow()
		.duties_of(&host(1))
		.into_iter()
		.filter(|sent| matches!(sent, Sent::Missing(..)))
		.collect();
	assert_eq!(missing, vec![Sent::Missing(1, host(3))]);
	// Nothing is left about the closed request.
	world.borrow_mut().block(Vec::new());
	step(&mut workers[0].0);
	let state = &workers[0].0.journal().state;
	assert!(state.jobs.is_empty() && state.own.is_empty());
	assert!(state.sent.iter().all(|job| job.request() != 1));
}

#[test]
fn a_worker_killed_after_sending_but_before_recording_does_not_send_twice() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let (mut first, _) = worker(1, &world, dir.path());
	step(&mut first);
	world.borrow_mut().request(1, host(1));
	world.borrow_mut().block(vec![InferenceEvent::Assigned { request: 1, executor: host(1) }]);
	// The block is handled and the job recorded, then the worker dies before it runs.
	let journal_path = dir.path().join("host1.json");
	let mut journal: Journal = Journal::open(&journal_path).unwrap();
	journal.state.next_block = Some(2);
	journal.state.jobs.insert(Job::Execute(1));
	journal.save().unwrap();
	// Meanwhile the duty reached the chain (sent just before the kill).
	world.borrow_mut().included.push((
		host(1),
		Sent::Finish(
			1,
			Execution { prompt_tokens: 30, token_ids: ANSWER.to_vec(), text: b"Paris".to_vec() },
		),
	));
	drop(first);
	// If the chain still shows it assigned (the result in a block not yet finalized), the
	// copy is refused; once finished, the job is dropped without running.
	let (mut restarted, runs) = worker(1, &world, dir.path());
	let progress = step(&mut restarted);
	assert_eq!((progress.finished, progress.refused), (0, 1));
	assert_eq!(world.borrow().duties_of(&host(1)).len(), 1);
	assert!(restarted.journal().state.jobs.is_empty());
	assert_eq!(*runs.borrow(), 1);

	let mut journal: Journal = Journal::open(&journal_path).unwrap();
	journal.state.jobs.insert(Job::Execute(1));
	journal.state.sent.clear();
	journal.save().unwrap();
	world.borrow_mut().requests.get_mut(&1).unwrap().status = Status::Finished;
	let (mut again, runs) = worker(1, &world, dir.path());
	let progress = step(&mut again);
	assert_eq!((progress.finished, progress.dropped), (0, 1));
	assert_eq!(*runs.borrow(), 0);
	assert_eq!(world.borrow().duties_of(&host(1)).len(), 1);
}

#[test]
fn a_worker_restarted_in_each_phase_carries_on_without_double_submission() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let mut workers = finished_by_one(&world, dir.path());
	world.borrow_mut().requests.get_mut(&1).unwrap().token_ids = vec![1, 1, 1];
	// Host 2 learns of the finish, then restarts before the sample is known.
	step(&mut workers[1].0);
	drop(workers);
	let (mut host2, _) = worker(2, &world, dir.path());
	assert!(host2.journal().state.jobs.contains(&Job::Check(1)));
	world.borrow_mut().validators.insert(1, vec![host(2)]);
	world.borrow_mut().block(Vec::new());
	step(&mut host2);
	drop(host2);
	let (mut host2, _) = worker(2, &world, dir.path());
	step(&mut host2);
	assert_eq!(
		world.borrow().duties_of(&host(2)),
		vec![Sent::Validate(1, Perbill::from_percent(20))]
	);

	// Host 3 handled the vote's opening and was killed before voting.
	world.borrow_mut().requests.get_mut(&1).unwrap().status = Status::Voting;
	world.borrow_mut().block(vec![InferenceEvent::VoteOpened { request: 1 }]);
	let blocks = world.borrow().blocks.len() as u32;
	let mut journal: Journal = Journal::open(&dir.path().join("host3.json")).unwrap();
	journal.state.next_block = Some(blocks);
	journal.state.jobs.insert(Job::Vote(1));
	journal.save().unwrap();
	let (mut host3, _) = worker(3, &world, dir.path());
	assert_eq!(step(&mut host3).voted, 1);
	drop(host3);
	let (mut host3, _) = worker(3, &world, dir.path());
	assert_eq!(step(&mut host3).voted, 0);
	assert_eq!(world.borrow().duties_of(&host(3)), vec![Sent::Vote(1, true)]);
}

#[test]
fn an_unreachable_node_keeps_the_jobs_for_later() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let (mut worker1, _) = worker(1, &world, dir.path());
	step(&mut worker1);
	world.borrow_mut().request(1, host(1));
	world.borrow_mut().block(vec![InferenceEvent::Assigned { request: 1, executor: host(1) }]);
	world.borrow_mut().down = true;
	let failed = futures::executor::block_on(worker1.step());
	assert!(matches!(failed, Err(StepError::Unavailable(_))));
	world.borrow_mut().down = false;
	let progress = step(&mut worker1);
	assert_eq!(progress.finished, 1);
}

/// Fault (`docs/security.md`): a power loss right after a save leaves a zero-length
/// journal. Rule: a journal that does not parse is moved aside, kept for the operator, and
/// the worker starts as a new one, from the newest finalized block; nothing it did is done
/// twice.
#[test]
fn a_journal_lost_to_a_power_cut_is_moved_aside_and_nothing_is_done_twice() {
	let dir = tempfile::tempdir().unwrap();
	let world = world();
	let (mut first, runs) = worker(1, &world, dir.path());
	step(&mut first);
	world.borrow_mut().request(1, host(1));
	world.borrow_mut().block(vec![InferenceEvent::Assigned { request: 1, executor: host(1) }]);
	assert_eq!(step(&mut first).finished, 1);
	drop(first);
	let path = dir.path().join("host1.json");
	std::fs::write(&path, b"").unwrap();
	let (mut restarted, _) = worker(1, &world, dir.path());
	step(&mut restarted);
	assert_eq!(std::fs::read(corrupt_path(&path)).unwrap(), b"");
	assert_eq!(world.borrow().duties_of(&host(1)).len(), 1);
	assert_eq!(*runs.borrow(), 1);
	// Restarted again, it finds its new journal.
	world.borrow_mut().block(Vec::new());
	step(&mut restarted);
	drop(restarted);
	assert!(Journal::<State>::open(&path).unwrap().state.next_block.is_some());
}

#[test]
fn a_journal_that_is_not_one_is_moved_aside_for_the_operator() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("journal.json");
	std::fs::write(&path, b"not json").unwrap();
	let journal = Journal::<State>::open(&path).unwrap();
	assert_eq!(journal.state, State::default());
	assert!(!path.exists());
	assert_eq!(std::fs::read(dir.path().join("journal.json.corrupt")).unwrap(), b"not json");
}
