// Differential test of the alu family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('alu');
