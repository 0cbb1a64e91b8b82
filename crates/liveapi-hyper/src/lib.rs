//! An async executor for `liveapi-request` operations over hyper (being built).
