//! lockcheck-report.
