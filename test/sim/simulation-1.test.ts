// Seeded simulations of the ensemble, part 1 of 4: see simulationPart in seeds.ts.
import { simulationPart } from "./seeds.ts";

simulationPart(1);
