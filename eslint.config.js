import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'traces/**', 'guests/**', 'test/differential/native/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-case-declarations': 'off',
      // one copy of each lazily loaded library (src/trace/arrow.ts, disassemble.ts, checkpoint.ts): types only here
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: ['apache-arrow', 'iced-x86', 'msgpackr'].map((name) => ({
          name, allowTypeImports: true,
          message: `import its types only; values come from the lazy loader (${name === 'apache-arrow' ? 'arrow() in src/trace/arrow.ts' : 'see src/trace/arrow.ts'})`,
        })),
      }],
    },
  },
  {
    // the processor's instruction tables name iced's Code values; the CPU loads iced anyway
    files: ['src/cpu/**/*.ts', 'src/recorder/**/*.ts', 'src/guest/**/*.ts', 'src/vmx/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'apache-arrow', allowTypeImports: true, message: 'import its types only; values come from arrow() in src/trace/arrow.ts' }] }] },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
