// Differential test of the branch family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('branch');
