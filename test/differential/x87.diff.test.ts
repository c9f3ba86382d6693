// Differential test of the x87 family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('x87');
