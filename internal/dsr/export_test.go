package dsr

// CodeQueueSize is how many codes wait for the worker before the next is
// sent while the person waits.
const CodeQueueSize = codeQueueSize

// CodeWorkerDone is closed when the service's code worker has ended.
func CodeWorkerDone(s *Service) <-chan struct{} { return s.codes.done }
