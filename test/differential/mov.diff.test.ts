// Differential test of the mov family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('mov');
