// Differential test of the stack family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('stack');
