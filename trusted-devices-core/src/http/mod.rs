//! Framework-neutral HTTP handling (in progress).
