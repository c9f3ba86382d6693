// Differential test of the misc family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('misc');
