//! lockcheck-runner.
