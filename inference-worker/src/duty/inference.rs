//! The inference duties of one host (`protocol.md`, "Inference"): execute, validate when
//! sampled, vote, show missing validators. See [`super`] for the traits and
//! [`super::journal`] for what survives a restart.

use super::{
	journal::{bytes, Job, Journal},
	Engine, InferenceChain, InferenceEvent, Status, SubmitError,
};
use gonka_primitives::{inference::RequestId, HostId};

/// What one [`InferenceDuty::step`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
	/// Finalized blocks handled.
	pub blocks: u32,
	/// Results sent (`finish`).
	pub finished: u32,
	/// Validation reports sent.
	pub validated: u32,
	/// Votes sent.
	pub voted: u32,
	/// Missing validators shown.
	pub missing: u32,
	/// Duties the chain refused (not sent again).
	pub refused: u32,
	/// Jobs dropped because the request moved on or could not be run here.
	pub dropped: u32,
	/// Completion tokens generated for the results sent.
	pub tokens: u64,
}

/// The inference duties over a chain and a model engine, with their journal.
pub struct InferenceDuty<C, E> {
	chain: C,
	engine: E,
	journal: Journal,
}

/// How a job ended this step.
enum Ran {
	/// A duty sent.
	Sent,
	/// Bookkeeping done (it scheduled other jobs, or none).
	Done,
	/// Not sent: the request moved on or cannot be served here.
	Dropped,
	/// Not yet: keep it for the next step.
	Waiting,
}

impl<C: InferenceChain, E: Engine> InferenceDuty<C, E> {
	/// The duties of `chain`'s host, carrying on from `journal`.
	pub fn new(chain: C, engine: E, journal: Journal) -> Self {
		Self { chain, engine, journal }
	}

	/// The journal (for status displays and tests).
	pub fn journal(&self) -> &Journal {
		&self.journal
	}

	/// The chain (for tests).
	pub fn chain(&self) -> &C {
		&self.chain
	}

	/// The engine and the journal back, to carry on over another connection.
	pub fn into_parts(self) -> (E, Journal) {
		(self.engine, self.journal)
	}

	/// Handles the finalized blocks not handled yet, then runs the jobs that can run.
	/// `Unavailable` when the node cannot be reached: nothing is lost, call again later.
	pub async fn step(&mut self) -> std::result::Result<Progress, StepError> {
		let mut progress = Progress::default();
		let head = self.chain.finalized().await?;
		let mut next = self.journal.state.next_block.unwrap_or(head);
		while next <= head {
			let block = self.chain.block(next).await?;
			for event in block.events {
				self.note(event);
			}
			next = next.saturating_add(1);
			self.journal.state.next_block = Some(next);
			self.journal.save()?;
			progress.blocks = progress.blocks.saturating_add(1);
		}
		// Jobs may schedule others (a check its validation, a closed request its missing
		// validators): run passes until none is new, each job once per step.
		let mut attempted = std::collections::BTreeSet::new();
		loop {
			let jobs: Vec<Job> = self
				.journal
				.state
				.jobs
				.iter()
				.filter(|job| !attempted.contains(*job))
				.copied()
				.collect();
			if jobs.is_empty() {
				break;
			}
			attempted.extend(jobs.iter().copied());
			self.run_all(jobs, &mut progress).await?;
		}
		Ok(progress)
	}

	/// Runs `jobs` in order, counting what they did in `progress`.
	async fn run_all(
		&mut self,
		jobs: Vec<Job>,
		progress: &mut Progress,
	) -> std::result::Result<(), StepError> {
		for job in jobs {
			let ran = match self.run(job, progress).await {
				Ok(ran) => ran,
				Err(SubmitError::Refused(reason)) => {
					tracing::info!(?job, %reason, "the chain refused a duty; not sending it again");
					progress.refused = progress.refused.saturating_add(1);
					self.record_sent(job);
					Ran::Done
				}
				Err(SubmitError::Unavailable(reason)) => {
					tracing::warn!(?job, %reason, "node unavailable; the job waits");
					self.journal.save()?;
					return Err(StepError::Unavailable(reason));
				}
			};
			let count = match (ran, job) {
				(Ran::Waiting, _) => continue,
				(Ran::Done, _) => None,
				(Ran::Dropped, _) => Some(&mut progress.dropped),
				(Ran::Sent, Job::Execute(_)) => Some(&mut progress.finished),
				(Ran::Sent, Job::Validate(_)) => Some(&mut progress.validated),
				(Ran::Sent, Job::Vote(_)) => Some(&mut progress.voted),
				(Ran::Sent, _) => Some(&mut progress.missing),
			};
			if let Some(count) = count {
				*count = count.saturating_add(1);
			}
			self.journal.state.jobs.remove(&job);
			self.journal.save()?;
		}
		Ok(())
	}

	/// Turns a finalized event into jobs.
	fn note(&mut self, event: InferenceEvent) {
		let me = self.chain.host().clone();
		let state = &mut self.journal.state;
		match event {
			InferenceEvent::Assigned { request, executor } if executor == me => {
				state.jobs.insert(Job::Execute(request));
			}
			InferenceEvent::Assigned { .. } => {}
			InferenceEvent::Finished { request, executor } => {
				if executor == me {
					state.own.entry(request).or_default();
				} else {
					state.jobs.insert(Job::Check(request));
				}
			}
			InferenceEvent::Reported { request, validator } => {
				if let Some(reported) = state.own.get_mut(&request) {
					reported.insert(bytes(&validator));
				}
			}
			InferenceEvent::VoteOpened { request } => {
				// The executor does not vote; a host that reported has voted with its report.
				if !state.own.contains_key(&request)
					&& !state.sent.contains(&Job::Validate(request))
				{
					state.jobs.insert(Job::Vote(request));
				}
			}
			InferenceEvent::Closed { request } => {
				let own = state.own.contains_key(&request);
				self.journal.forget(request);
				if own {
					self.journal.state.jobs.insert(Job::ShowMissing(request));
				}
			}
		}
	}

	/// Records a duty sent while its request is open: a validation report (so the host
	/// does not also vote) and a result. Missing reports come after the close and their
	/// job's removal is their record.
	fn record_sent(&mut self, job: Job) {
		if matches!(job, Job::Execute(_) | Job::Validate(_) | Job::Vote(_)) {
			self.journal.state.sent.insert(job);
		}
	}

	/// Runs one job.
	async fn run(&mut self, job: Job, progress: &mut Progress) -> Result<Ran, SubmitError> {
		if self.journal.state.sent.contains(&job) {
			return Ok(Ran::Done);
		}
		match job {
			Job::Execute(request) => self.execute(request, progress).await,
			Job::Check(request) => self.check(request).await,
			Job::Validate(request) | Job::Vote(request) => self.replay(job, request).await,
			Job::ShowMissing(request) => self.show_missing(request).await,
			Job::Missing(request, validator) => {
				self.chain.report_missing(request, &HostId::new(validator)).await?;
				tracing::info!(request, validator = %HostId::new(validator), "showed a missing validation");
				Ok(Ran::Sent)
			}
		}
	}

	/// Executes a request still assigned to this host, of a model served here, and sends
	/// its result (`finish`).
	async fn execute(
		&mut self,
		request: RequestId,
		progress: &mut Progress,
	) -> Result<Ran, SubmitError> {
		let me = self.chain.host().clone();
		let Some(info) = self.chain.request(request).await? else {
			return Ok(Ran::Dropped);
		};
		if info.status != Status::Assigned || info.executor != me {
			return Ok(Ran::Dropped);
		}
		if !self.engine.serves(info.model) {
			tracing::warn!(
				request,
				model = info.model,
				"assigned a model this worker does not serve"
			);
			return Ok(Ran::Dropped);
		}
		let execution = match self.engine.execute(request, &info) {
			Ok(execution) => execution,
			Err(error) => {
				tracing::warn!(request, %error, "the request cannot be executed");
				return Ok(Ran::Dropped);
			}
		};
		self.chain.finish(request, &execution).await?;
		self.record_sent(Job::Execute(request));
		progress.tokens = progress.tokens.saturating_add(execution.token_ids.len() as u64);
		tracing::info!(request, tokens = execution.token_ids.len(), "finished");
		Ok(Ran::Sent)
	}

	/// Another host finished a request: schedules its validation if the hash rule samples
	/// this host; waits while the sample is not known yet.
	async fn check(&mut self, request: RequestId) -> Result<Ran, SubmitError> {
		let Some(validators) = self.chain.validators(request).await? else {
			// Not yet known (the block after `finish` is not finalized), or pruned.
			return Ok(match self.chain.request(request).await? {
				Some(_) => Ran::Waiting,
				None => Ran::Dropped,
			});
		};
		if validators.contains(self.chain.host()) {
			self.journal.state.jobs.insert(Job::Validate(request));
		}
		Ok(Ran::Done)
	}

	/// Replays another executor's result while its validation (`job` is `Validate`) or its
	/// vote (`Vote`) is open, and sends the report or the vote.
	async fn replay(&mut self, job: Job, request: RequestId) -> Result<Ran, SubmitError> {
		let me = self.chain.host().clone();
		let Some(info) = self.chain.request(request).await? else {
			return Ok(Ran::Dropped);
		};
		let open = match job {
			Job::Validate(_) => matches!(info.status, Status::Finished | Status::Voting),
			_ => info.status == Status::Voting,
		};
		if !open || info.executor == me || !self.engine.serves(info.model) {
			return Ok(Ran::Dropped);
		}
		let similarity = match self.engine.replay(request, &info) {
			Ok(similarity) => similarity,
			Err(error) => {
				tracing::warn!(request, %error, "the result cannot be replayed here");
				return Ok(Ran::Dropped);
			}
		};
		if let Job::Validate(_) = job {
			self.chain.validate(request, similarity).await?;
			tracing::info!(request, ?similarity, "validated");
		} else {
			let invalid = similarity < info.validation_threshold;
			self.chain.vote(request, invalid).await?;
			tracing::info!(request, invalid, "voted");
		}
		self.record_sent(job);
		Ok(Ran::Sent)
	}

	/// One of this host's requests closed: schedules a missing report for each sampled
	/// validator that did not report.
	async fn show_missing(&mut self, request: RequestId) -> Result<Ran, SubmitError> {
		let reported = self.journal.state.own.remove(&request).unwrap_or_default();
		if let Some(validators) = self.chain.validators(request).await? {
			for validator in validators.iter().filter(|v| !reported.contains(&bytes(v))) {
				self.journal.state.jobs.insert(Job::Missing(request, bytes(validator)));
			}
		}
		Ok(Ran::Done)
	}
}

/// Why a step stopped.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
	/// The node could not be reached: the jobs wait.
	#[error("node unavailable: {0}")]
	Unavailable(String),
	/// The journal could not be written.
	#[error(transparent)]
	Journal(#[from] crate::Error),
}

impl From<SubmitError> for StepError {
	fn from(error: SubmitError) -> Self {
		match error {
			SubmitError::Refused(reason) | SubmitError::Unavailable(reason) => {
				StepError::Unavailable(reason)
			}
		}
	}
}
