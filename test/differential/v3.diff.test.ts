// Differential tests against the host CPU for the x86-64-v3 instruction families (run under --cpu x86-64-v3):
// BMI1, BMI2, LZCNT, MOVBE, AVX and AVX2 (see README.md). A family the host CPU lacks is skipped with the reason printed.
import { diffSuite } from './suite.js';

diffSuite(['bmi', 'avx']);
