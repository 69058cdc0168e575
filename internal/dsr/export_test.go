package dsr

// CodeQueueSize is how many codes wait for the worker before the next is
// sent while the person waits.
const CodeQueueSize = codeQueueSize
