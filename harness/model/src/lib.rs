//! lockcheck-model.
