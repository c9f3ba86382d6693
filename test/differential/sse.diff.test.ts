// Differential test of the sse family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('sse');
