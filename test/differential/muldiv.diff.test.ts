// Differential test of the muldiv family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('muldiv');
