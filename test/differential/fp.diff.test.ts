// Differential tests against the host CPU: SSE/SSE2 and x87 (see README.md).
import { diffSuite } from './suite.js';

diffSuite(['sse', 'x87']);
