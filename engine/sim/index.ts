// The simulator's public surface: what rules, the CLI, the server and issue 4's C bridge call.

export { fn, FnBuilder, parseExpr, exprText } from './builder';
export { runTransition, type Program, type World } from './interp';
export { explore, multinomial, DEFAULT_BUDGET, type Budget, type ExploreResult } from './explore';
export {
  runScenario, runScenarioAllProfiles, buildInitialState, expectedVerdict,
  type Scenario, type SimResult, type RunOptions, type ThreadSpec, type ChoiceOption, type ProfileName,
} from './scenario';
export { SCENARIOS, SEED_ROWS, findScenario } from './scenarios/index';
export { runSimulateCommand, formatResult, type SimulateIo } from './simulate-command';
export { scenariosMarkdown } from './scenarios-doc';
export type { Verdict } from '../kernel/ops';
export type { Layout, LayoutVma, Val } from '../kernel/state';
