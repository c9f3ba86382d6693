// Differential test of the string family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('string');
