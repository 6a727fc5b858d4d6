//! The live page's controls, one group per file; each button calls a server function and
//! shows what it did (or why not) next to it.

mod flow;
mod outcome;
mod publish;
mod scenarios;
mod simulator;

pub use flow::FlowControls;
pub use outcome::{Control, Outcome, Said, counted, whole};
pub use publish::PublishControls;
pub use scenarios::CrashControl;
pub use simulator::SimulatorControls;
