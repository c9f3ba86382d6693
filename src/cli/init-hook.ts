// The oclif `init` hook: runs before every command (registered in package.json's oclif.hooks).
import { Hook } from '@oclif/core';
import { stopOnClosedOutput } from './closed-output.js';

const hook: Hook.Init = async function () {
  stopOnClosedOutput();
};

export default hook;
