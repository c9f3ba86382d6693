// Differential tests against the host CPU: integer arithmetic, shifts, multiply/divide, bit operations and moves (see README.md).
import { diffSuite } from './suite.js';

diffSuite(['alu', 'shift', 'muldiv', 'bit', 'mov']);
