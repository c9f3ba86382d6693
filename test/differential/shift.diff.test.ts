// Differential test of the shift family against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('shift');
