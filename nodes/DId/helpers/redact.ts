// Moved to the transport (which imports nothing above it); stays importable from here.
export * from '../transport/redact';
