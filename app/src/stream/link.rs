//! The stream client's bookkeeping, with no browser in it: which socket is current (its
//! *generation*), how long to wait before the next attempt (back-off), when a silent socket is
//! given up as stale, and what the badge says. The browser half (`stream::client`) only opens
//! sockets, runs timers and does what [`Link`] answers, so every decision here is unit-tested.
//!
//! Events, each from the browser half:
//! - [`Link::open`] when a socket is about to be opened: it gets a new generation, and anything
//!   an older socket still reports is ignored from then on;
//! - [`Link::frame`] for each frame: whether to show it (only the current socket's);
//! - [`Link::tick`] every [`FRAME_MS`]: after [`STALE_TICKS`] of them without a frame, the socket
//!   is given up (a half-open socket never closes by itself);
//! - [`Link::closed`] when the socket closes or cannot be opened;
//! - [`Link::due`] when a retry's timer fires: whether it is still wanted.
//!
//! Giving up (a close or staleness) answers [`Step::Retry`]: close the socket, open a new one
//! after [`backoff_ms`] of the attempts made since the last frame.

use super::Connection;

/// The server sends a frame every 100 ms (10 per second); the client counts ticks of this
/// period to notice frames that stop coming.
pub const FRAME_MS: u32 = 100;

/// Ticks without a frame after which the current socket is given up as stale: 20, i.e. 2 s, 20
/// frames missed in a row.
pub const STALE_TICKS: u32 = 20;

/// Delay before reconnect attempt `attempt` (0-based): 250 ms doubling up to 5 s.
pub fn backoff_ms(attempt: u32) -> u32 {
    250u32.saturating_mul(1 << attempt.min(5)).min(5_000)
}

/// What the browser half must do after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing.
    Wait,
    /// Close the current socket (its callbacks detached) and, after `delay_ms`, call
    /// [`Link::due`] with `generation`.
    Retry { delay_ms: u32, generation: u64 },
}

/// The stream's state: one per page stream, driven by the browser half's events.
#[derive(Clone, Debug)]
pub struct Link {
    /// Bumped by every socket opened and every give-up: only the matching callbacks count.
    generation: u64,
    /// Attempts since the last frame: the next back-off.
    attempts: u32,
    /// Ticks since the current socket opened or last sent a frame; `None` while no socket is
    /// open (a retry is scheduled).
    silent: Option<u32>,
    state: Connection,
}

impl Default for Link {
    fn default() -> Self {
        Self::new()
    }
}

impl Link {
    /// A stream about to open its first socket.
    pub fn new() -> Self {
        Self { generation: 0, attempts: 0, silent: None, state: Connection::Connecting }
    }

    /// What the badge says.
    pub fn state(&self) -> Connection {
        self.state
    }

    /// A socket is about to be opened: its generation (older sockets are ignored from now on).
    pub fn open(&mut self) -> u64 {
        self.generation += 1;
        self.silent = Some(0);
        self.generation
    }

    /// A frame came from socket `generation`: whether to show it. One from the current socket
    /// makes the stream live and resets the back-off.
    pub fn frame(&mut self, generation: u64) -> bool {
        if !self.is_current(generation) {
            return false;
        }
        self.silent = Some(0);
        self.attempts = 0;
        self.state = Connection::Live;
        true
    }

    /// One [`FRAME_MS`] period passed. After [`STALE_TICKS`] without a frame the socket is given
    /// up: a live stream turns [`Connection::Stale`] (the numbers on screen stopped), one still
    /// trying keeps saying so.
    pub fn tick(&mut self) -> Step {
        let Some(silent) = self.silent else { return Step::Wait };
        let silent = silent + 1;
        self.silent = Some(silent);
        if silent < STALE_TICKS {
            return Step::Wait;
        }
        if self.state == Connection::Live {
            self.state = Connection::Stale;
        }
        self.give_up()
    }

    /// Socket `generation` closed or could not be opened: retry, unless it was not the current
    /// one (already given up, or replaced).
    pub fn closed(&mut self, generation: u64) -> Step {
        if !self.is_current(generation) {
            return Step::Wait;
        }
        self.state = Connection::Reconnecting;
        self.give_up()
    }

    /// The retry scheduled as `generation` is due: whether to open a socket now (not if the
    /// stream moved on since).
    pub fn due(&self, generation: u64) -> bool {
        self.generation == generation && self.silent.is_none()
    }

    fn is_current(&self, generation: u64) -> bool {
        self.generation == generation && self.silent.is_some()
    }

    fn give_up(&mut self) -> Step {
        self.generation += 1;
        self.silent = None;
        let delay_ms = backoff_ms(self.attempts);
        self.attempts = self.attempts.saturating_add(1);
        Step::Retry { delay_ms, generation: self.generation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens a socket on `link` and delivers one frame from it.
    fn live(link: &mut Link) -> u64 {
        let generation = link.open();
        assert!(link.frame(generation));
        generation
    }

    fn retry(step: Step) -> (u32, u64) {
        match step {
            Step::Retry { delay_ms, generation } => (delay_ms, generation),
            Step::Wait => panic!("expected a retry, got {step:?}"),
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_ms(0), 250);
        assert_eq!(backoff_ms(1), 500);
        assert_eq!(backoff_ms(4), 4_000);
        assert_eq!(backoff_ms(5), 5_000);
        assert_eq!(backoff_ms(40), 5_000);
        assert_eq!(backoff_ms(u32::MAX), 5_000);
    }

    #[test]
    fn the_first_frame_makes_the_stream_live() {
        let mut link = Link::new();
        assert_eq!(link.state(), Connection::Connecting);
        let generation = link.open();
        assert_eq!(link.state(), Connection::Connecting, "an open socket is not live before a frame");
        assert!(link.frame(generation));
        assert_eq!(link.state(), Connection::Live);
    }

    #[test]
    fn a_frame_from_an_older_socket_is_ignored() {
        let mut link = Link::new();
        let old = live(&mut link);
        let (_, due) = retry(link.closed(old));
        assert!(!link.frame(old), "a closed socket's late frame");
        assert!(link.due(due));
        let new = link.open();
        assert_ne!(new, old);
        assert!(!link.frame(old), "the old socket's frame once a new one is open");
        assert_eq!(link.state(), Connection::Reconnecting);
        assert!(link.frame(new));
        assert_eq!(link.state(), Connection::Live);
    }

    #[test]
    fn an_older_socket_closing_changes_nothing() {
        let mut link = Link::new();
        let old = live(&mut link);
        let (_, due) = retry(link.tick_until_stale());
        assert!(link.due(due));
        let new = link.open();
        // The stale socket's close event arrives late: the new socket is not given up.
        assert_eq!(link.closed(old), Step::Wait);
        assert!(link.frame(new));
        assert_eq!(link.state(), Connection::Live);
    }

    #[test]
    fn backoff_grows_with_failed_attempts_and_resets_on_a_frame() {
        let mut link = Link::new();
        let mut delays = Vec::new();
        for _ in 0..4 {
            let generation = link.open();
            let (delay, due) = retry(link.closed(generation));
            assert!(link.due(due));
            delays.push(delay);
        }
        assert_eq!(delays, [250, 500, 1_000, 2_000]);
        // A socket that opens and sends a frame starts the back-off afresh.
        let generation = live(&mut link);
        assert_eq!(retry(link.closed(generation)).0, 250);
    }

    #[test]
    fn a_socket_that_opens_but_sends_nothing_does_not_reset_the_backoff() {
        let mut link = Link::new();
        let first = link.open();
        assert_eq!(retry(link.closed(first)).0, 250);
        link.open();
        assert_eq!(retry(link.tick_until_stale()).0, 500);
    }

    #[test]
    fn a_silent_socket_goes_stale_after_the_named_number_of_ticks() {
        let mut link = Link::new();
        let generation = live(&mut link);
        for tick in 1..STALE_TICKS {
            assert_eq!(link.tick(), Step::Wait, "tick {tick}");
            assert_eq!(link.state(), Connection::Live);
        }
        let (delay, due) = retry(link.tick());
        assert_eq!(link.state(), Connection::Stale);
        assert_eq!(delay, 250);
        // The given-up socket counts no more; the retry is due once.
        assert!(!link.frame(generation));
        assert!(link.due(due));
        assert_eq!(link.tick(), Step::Wait, "no socket is open while the retry waits");
    }

    #[test]
    fn frames_keep_a_socket_fresh() {
        let mut link = Link::new();
        let generation = live(&mut link);
        for _ in 0..STALE_TICKS * 3 {
            assert_eq!(link.tick(), Step::Wait);
            assert_eq!(link.tick(), Step::Wait);
            assert!(link.frame(generation));
        }
        assert_eq!(link.state(), Connection::Live);
    }

    #[test]
    fn stale_stays_stale_until_a_frame_and_a_failed_retry_says_reconnecting() {
        let mut link = Link::new();
        live(&mut link);
        let (_, due) = retry(link.tick_until_stale());
        assert!(link.due(due));
        let second = link.open();
        assert_eq!(link.state(), Connection::Stale);
        retry(link.closed(second));
        assert_eq!(link.state(), Connection::Reconnecting);
        // Still trying: a new socket that stays silent is given up without claiming "stale".
        link.open();
        link.tick_until_stale();
        assert_eq!(link.state(), Connection::Reconnecting);
    }

    #[test]
    fn a_retry_is_due_once() {
        let mut link = Link::new();
        let generation = link.open();
        let (_, due) = retry(link.closed(generation));
        assert!(link.due(due));
        link.open();
        assert!(!link.due(due), "a second timer for the same retry");
    }

    impl Link {
        /// Ticks until the socket is given up (at most [`STALE_TICKS`]).
        fn tick_until_stale(&mut self) -> Step {
            for _ in 1..STALE_TICKS {
                assert_eq!(self.tick(), Step::Wait);
            }
            self.tick()
        }
    }
}
