// Differential tests against the host CPU: stack, branches, string instructions, flag/misc and user-visible system instructions, self-modifying code (see README.md).
import { diffSuite } from './suite.js';

diffSuite(['stack', 'branch', 'string', 'misc', 'system', 'smc']);
