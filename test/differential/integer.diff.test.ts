// Differential tests against the host CPU: integer arithmetic, shifts, multiply/divide, bit operations, moves, and flag producer/consumer sequences (see README.md).
import { diffSuite } from './suite.js';

diffSuite(['alu', 'shift', 'muldiv', 'bit', 'mov', 'flags']);
