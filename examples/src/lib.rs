//! Runnable examples of the liveapi SDK live in this package as `[[example]]` targets.
