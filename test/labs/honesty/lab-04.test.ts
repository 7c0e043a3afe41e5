// Lab 4: every exercise passes on its solution, fails on the stubs, and fails when only it is missing.
import { honestySuite } from "./suite.ts";

honestySuite(4);
