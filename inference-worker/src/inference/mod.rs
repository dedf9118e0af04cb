//! Running a request on the model: the model's tokenizer and chat template
//! ([`tokenizer`]), the seeded sampler every executor and validator share ([`sampler`]),
//! local generation with a KV cache ([`generate`]), and a validator's replay scoring of
//! another executor's completion ([`score`]).

pub mod generate;
pub mod sampler;
pub mod score;
pub mod tokenizer;
