// Differential test of the system family (what user mode can observe) against the host CPU (see README.md).
import { diffSuite } from './suite.js';

diffSuite('system');
