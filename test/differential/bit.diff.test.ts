// Differential test of the bit family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('bit');
