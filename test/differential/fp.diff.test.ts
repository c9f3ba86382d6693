// Differential tests against the host CPU: SSE/SSE2, SSE3/SSSE3/SSE4.1/SSE4.2 (with CRC32), MMX, the RCP/RSQRT approximations and x87 (see README.md).
import { diffSuite } from './suite.js';

diffSuite(['sse', 'sse4', 'mmx', 'rcp', 'x87']);
