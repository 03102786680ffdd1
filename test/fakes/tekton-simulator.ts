// A Tekton controller simulator on top of the fake kube-apiserver (not Tekton): see test/fakes/README.md.
export { formatGoDuration, parseGoDuration } from './tekton/durations.ts';
export { podScripts, stepCommand } from './tekton/pod.ts';
export {
  type RunScript,
  type RunState,
  type StepContext,
  startTektonSimulator,
  type TektonSimulator,
  type TektonSimulatorOptions,
} from './tekton/simulator.ts';
